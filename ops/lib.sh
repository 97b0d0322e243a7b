# Shared by ops/kvx and ops/test: find a JDK >= 25, install what is missing, build when needed.
# shellcheck shell=bash

KVX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KVX_JVM_OPTS=(--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --enable-native-access=ALL-UNNAMED
  -XX:+UseSerialGC -Xmn48m -Xss512k -XX:TieredStopAtLevel=1 -Xshare:auto)
# -Xmn48m: the serial collector's young pause copies what survived since the last one (recent writes live on in
# the watch cache and the store), so its length follows the young generation's size. With the default size
# (a third of the initial heap) the pauses were 35-45 ms every ~1.2 s at 1,000 writes/s (write p99 28-37 ms);
# at 48 MiB write p99 is 19-20 ms for the same CPU per create and scheduler throughput (docs/benchmarks.md).

# A collector chosen in KVX_JAVA_OPTS replaces the serial one and its young size (the JVM refuses two collectors).
if [[ "${KVX_JAVA_OPTS:-}" =~ -XX:\+Use[A-Za-z0-9]*GC ]]; then
  _opts=()
  for f in "${KVX_JVM_OPTS[@]}"; do [ "$f" = -XX:+UseSerialGC ] || [ "$f" = -Xmn48m ] || _opts+=("$f"); done
  KVX_JVM_OPTS=("${_opts[@]}")
  unset _opts
fi

kvx_say() { echo "kvx: $*" >&2; }

java_major() {
  "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'
}

# JAVA_HOME if it is 25 or newer, else the newest /usr/lib/jvm/* that is.
find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(java_major "$JAVA_HOME/bin/java")" -ge 25 ] 2>/dev/null; then
    return 0
  fi
  local best="" best_v=0 d v
  for d in /usr/lib/jvm/*; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    v=$(java_major "$d/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ] && [ "$v" -gt "$best_v" ]; then best=$d; best_v=$v; fi
  done
  if [ -z "$best" ]; then
    kvx_say "no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm/*); install one, e.g. Temurin 25"
    exit 1
  fi
  export JAVA_HOME=$best
  export PATH="$JAVA_HOME/bin:$PATH"
}

# As root, installs the Debian packages kvx uses; otherwise says what is missing and what falls back.
ensure_packages() {
  local want=(runc containernetworking-plugins nftables conntrack busybox-static iproute2 util-linux) missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    kvx_say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null; } \
      || kvx_say "could not install ${missing[*]}; continuing without them"
  else
    kvx_say "missing packages: ${missing[*]} (run as root to install them)."
    kvx_say "without runc and root, pods run as plain processes with NO isolation; without busybox-static there is no test image."
  fi
}

# Builds target/kvx.jar when it is missing or older than any source.
build_if_needed() {
  local jar="$KVX_ROOT/target/kvx.jar"
  if [ -f "$jar" ] && [ -z "$(find "$KVX_ROOT/src/main" "$KVX_ROOT/verticles" "$KVX_ROOT/pom.xml" -newer "$jar" -print -quit)" ]; then
    return 0
  fi
  kvx_say "building with Maven"
  (cd "$KVX_ROOT" && mvn -q -B -DskipTests package) >&2
}

kvx_java() {
  exec "$JAVA_HOME/bin/java" "${KVX_JVM_OPTS[@]}" ${KVX_JAVA_OPTS:-} -jar "$KVX_ROOT/target/kvx.jar" "$@"
}
