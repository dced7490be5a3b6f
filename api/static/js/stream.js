// Live alert changes over Server-Sent Events. While the connection blips, EventSource reconnects by itself with
// Last-Event-ID and the server replays what was missed (or sends "reset" when it cannot). When the browser gives up
// (the server answered with an error), we open a new stream a little later and reload the list, since a new
// stream starts with no history.

const RETRY_MS = 5000;

export function connectStream({ onChange, onReset, onState }) {
  let source = null;
  let closed = false;
  let fresh = true; // load the list once the stream is up, so nothing falls between the two
  const open = () => {
    source = new EventSource("/api/v1/stream/alerts");
    source.addEventListener("open", () => {
      onState("on");
      if (fresh) onReset("new stream");
      fresh = false;
    });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        onState("connecting");
        return;
      }
      onState("off");
      if (!closed) {
        fresh = true;
        setTimeout(() => { if (!closed) open(); }, RETRY_MS);
      }
    });
    source.addEventListener("alert", (event) => {
      try {
        const change = JSON.parse(event.data); // an AlertChange: which alert changed and how
        onChange(change.id, change);
      } catch { /* a payload we cannot read is not worth breaking the stream for */ }
    });
    source.addEventListener("reset", () => onReset("server"));
  };
  open();
  return { close: () => { closed = true; source?.close(); } };
}
