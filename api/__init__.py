"""HTTP and the control-room console: FastAPI routers over the store and the domain packages."""
