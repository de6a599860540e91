"""Python peer of the bench: gipc pipes between gevent processes.

Run by the bench only when `python3 -c "import gipc, gevent"` succeeds, as
python3 gipc_peer.py MODE COUNT, MODE being oneway, pingpong or start. It
prints the seconds that COUNT messages, round trips or start+join of a
child took, child start-up excluded for messages. Pipes are raw
(encoder=None), as on the Go side.
"""
import sys
import time

import gevent  # noqa: F401  (gipc runs on gevent's hub)
import gipc


def sink(reader, ack, count):
    ack.put(b"r")
    for _ in range(count):
        reader.get()
    ack.put(b"d")


def echo(end, count):
    end.put(b"r")
    for _ in range(count):
        end.put(end.get())


def empty():
    pass


def main():
    mode, count = sys.argv[1], int(sys.argv[2])
    if mode == "start":
        t0 = time.perf_counter()
        for _ in range(count):
            p = gipc.start_process(empty)
            p.join()
            if p.exitcode != 0:
                sys.exit("child exit code %s" % p.exitcode)
        print(time.perf_counter() - t0)
        return
    if mode == "pingpong":
        with gipc.pipe(duplex=True, encoder=None, decoder=None) as (mine, theirs):
            p = gipc.start_process(echo, args=(theirs, count))
            mine.get()
            t0 = time.perf_counter()
            for _ in range(count):
                mine.put(b"x")
                mine.get()
            elapsed = time.perf_counter() - t0
            p.join()
    elif mode == "oneway":
        with gipc.pipe(encoder=None, decoder=None) as (reader, writer):
            with gipc.pipe(encoder=None, decoder=None) as (ack_reader, ack_writer):
                p = gipc.start_process(sink, args=(reader, ack_writer, count))
                ack_reader.get()
                t0 = time.perf_counter()
                for _ in range(count):
                    writer.put(b"x")
                ack_reader.get()
                elapsed = time.perf_counter() - t0
                p.join()
    else:
        sys.exit("usage: gipc_peer.py oneway|pingpong|start COUNT")
    if p.exitcode != 0:
        sys.exit("child exit code %s" % p.exitcode)
    print(elapsed)


if __name__ == "__main__":
    main()
