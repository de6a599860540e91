# A reproducible image of the module: it downloads the dependencies, runs
# the whole test suite (./build.sh test) while building, and runs the micro
# benchmarks when started (docker run --rm gipc-go).
#
#   docker build -t gipc-go .     (or ./build.sh docker)
#   docker run --rm gipc-go
#
# The golang image has Go, gcc and libc6-dev, which is all that cgo needs.
FROM golang:1.26-bookworm

WORKDIR /src

# Dependencies first, so that their layer survives changes to the code.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN ./build.sh test

CMD ["./build.sh", "bench"]
