"""A Binance-compatible spot exchange on loopback, serving real and synthetic market data.

`process.EmulatorProcess` runs it as a child process; `control.EmulatorControl` scripts its
`/_emulator/*` control endpoints; `server` is the `marketcache emulator` command.
"""
