#!/usr/bin/env bash
# build.sh: the one entry point of the project.
#
#   ./build.sh build         compile every package and example
#   ./build.sh test          vet + race tests (what CI runs)
#   ./build.sh vet           gofmt and go vet
#   ./build.sh bench [flags] the comparison against Go's netpoller (quick suite;
#                            without flags it records bench/results/latest.*)
#   ./build.sh fuzz [secs]   run every fuzz target for a while (default 20s each)
#   ./build.sh vendor-libev  re-create libev/ from Debian's source package
#   ./build.sh docker        build the Docker image (needs a Docker engine)
set -euo pipefail
cd "$(dirname "$0")"

LIBEV_VERSION=4.33
LIBEV_DEBIAN_VERSION=4.33-1
LIBEV_ORIG_SHA256=507eb7b8d1015fbec5b935f34ebed15bf346bed04a11ab82b8eee848c4205aea
# The files of the release that the build uses (ev.c includes the backends),
# plus the manual and the licence. Nothing else of the tarball is needed.
LIBEV_FILES="LICENSE Changes ev.pod ev.h ev.c ev_vars.h ev_wrap.h ev_epoll.c ev_poll.c
ev_select.c ev_kqueue.c ev_port.c ev_linuxaio.c ev_iouring.c ev_win32.c"

die() { echo "build.sh: $*" >&2; exit 1; }

# need_cgo fails early and clearly when cgo cannot work: cev compiles libev
# into the Go package, so a C compiler is part of the toolchain here.
need_cgo() {
	command -v go >/dev/null || die "go is not on PATH (Go 1.26 or newer is required)"
	local cgo cc
	cgo=$(go env CGO_ENABLED)
	[ "$cgo" = 1 ] || die "CGO_ENABLED=$cgo: this module needs cgo (set CGO_ENABLED=1 and install gcc)"
	cc=$(go env CC)
	command -v "${cc%% *}" >/dev/null || die "C compiler '$cc' not found: install gcc (Debian: apt-get install gcc libc6-dev)"
}

cmd_build() {
	need_cgo
	go build ./...
}

cmd_vet() {
	need_cgo
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/*'))
	[ -z "$unformatted" ] || die "gofmt needed on: $unformatted"
	go vet ./...
	# libev/ stays exactly as released: its files match the recorded sums.
	(cd libev && sha256sum --quiet -c SHA256SUMS) || die "libev/ was edited: its files differ from libev/SHA256SUMS"
	# Nothing outside cev may use cgo or unsafe.
	local bad
	bad=$(grep -rlE '^import "C"|"unsafe"' --include='*.go' . | grep -v '^\./cev/' | grep -v '/testdata/' || true)
	[ -z "$bad" ] || die "cgo or unsafe outside cev/: $bad"
}

cmd_test() {
	need_cgo
	cmd_vet
	# The race runtime sleeps 1 s at the exit of every process unless told
	# otherwise; child processes would pay it on every test.
	export GORACE="${GORACE:-atexit_sleep_ms=0}"
	go test -race -count=1 -timeout 9m ./...
	# libev's own consistency checks and assertions (EV_VERIFY), under the
	# layers that drive it: a watcher misused from Go aborts here.
	go test -count=1 -timeout 5m -tags cev_verify ./cev/ ./coro/ ./gipc/
	# Every pointer that crosses into C checked in depth.
	GOEXPERIMENT=cgocheck2 go test -count=1 -timeout 5m ./cev/ ./coro/
}

# cmd_bench runs the comparison suite. Without arguments it also records
# the run in bench/results/ (table, JSON, SVG chart), as the README shows it.
cmd_bench() {
	need_cgo
	if [ $# -gt 0 ]; then
		go run ./bench "$@"
		return
	fi
	mkdir -p bench/results
	go run ./bench -json bench/results/latest.json -svg bench/results/latest.svg | tee bench/results/latest.txt
	echo "build.sh: results in bench/results/ (latest.txt, latest.json, latest.svg)" >&2
}

cmd_fuzz() {
	need_cgo
	local secs=${1:-20}
	local pkg fz
	for pkg in $(go list ./...); do
		for fz in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
			echo "== fuzz $pkg $fz (${secs}s)"
			go test -run '^$' -fuzz "^${fz}\$" -fuzztime "${secs}s" "$pkg"
		done
	done
}

# vendor-libev downloads libev's source package through apt (with a private
# deb-src list, so the system's apt configuration is not touched), checks the
# orig tarball against the pinned sha256 and replaces libev/'s upstream files.
cmd_vendor_libev() {
	command -v apt-get >/dev/null || die "vendor-libev needs apt-get (Debian)"
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	mkdir -p "$tmp/lists/partial" "$tmp/parts" "$tmp/dl"
	cat >"$tmp/parts/libev-src.sources" <<-EOF
		Types: deb-src
		URIs: http://deb.debian.org/debian
		Suites: bookworm
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$tmp/parts"
		-o "Dir::State::Lists=$tmp/lists" -o "Debug::NoDropPrivs=1" -o "APT::Sandbox::User=root")
	apt-get "${opts[@]}" -qq update
	(cd "$tmp/dl" && apt-get "${opts[@]}" -qq source --download-only "libev=1:$LIBEV_DEBIAN_VERSION")
	local tarball="$tmp/dl/libev_$LIBEV_VERSION.orig.tar.gz"
	echo "$LIBEV_ORIG_SHA256  $tarball" | sha256sum -c --quiet - ||
		die "libev_$LIBEV_VERSION.orig.tar.gz: sha256 differs from $LIBEV_ORIG_SHA256"
	tar -xzf "$tarball" -C "$tmp"
	local f
	for f in $LIBEV_FILES; do
		cp "$tmp/libev-$LIBEV_VERSION/$f" "libev/$f"
	done
	# The README records the checksum of every vendored file; if it exists,
	# the fresh files must match it.
	if [ -f libev/SHA256SUMS ]; then
		(cd libev && sha256sum -c --quiet SHA256SUMS) || die "libev/: files differ from libev/SHA256SUMS"
	else
		(cd libev && sha256sum $LIBEV_FILES >SHA256SUMS)
	fi
	echo "libev/ re-created from libev_$LIBEV_DEBIAN_VERSION (orig sha256 $LIBEV_ORIG_SHA256)"
}

cmd_docker() {
	command -v docker >/dev/null || die "docker: no Docker client on this machine"
	docker info >/dev/null 2>&1 || die "docker: no Docker engine is running here; the image cannot be built"
	docker build -t gipc-go .
}

case "${1:-}" in
build) shift; cmd_build "$@" ;;
test) shift; cmd_test "$@" ;;
vet) shift; cmd_vet "$@" ;;
bench) shift; cmd_bench "$@" ;;
fuzz) shift; cmd_fuzz "$@" ;;
vendor-libev) shift; cmd_vendor_libev "$@" ;;
docker) shift; cmd_docker "$@" ;;
*) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
