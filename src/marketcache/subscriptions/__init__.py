"""Client subscriptions: one watcher per distinct answer, fanned out to every subscriber.

`hub.Hub` reads each subscribed answer through the service at an interval and hands
a changed one to every subscription of it; `outbox.Outbox` holds what a connection
has yet to send (the newest answer per subscription, bounded); `session.Session` is
one connection's subscriptions and the client's messages; `limits.Limits` the caps.
"""
