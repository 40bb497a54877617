"""Provider simulators: real HTTP servers on 127.0.0.1, written from the providers' public docs."""
