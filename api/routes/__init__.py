"""One router per resource; each calls typed functions of ``store`` or the domain packages, never SQL."""
