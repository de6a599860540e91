module example.com/usermod

go 1.26.0

require gipc.dev v0.0.0
