"""One WebSocket's training session, shared by both pages: the socket host, the message
pump and its handler table, the requests it accepts, and the :class:`~app.session.run.Run`
interface a page's run implements."""
