# Sourced by the tools/*.sh scripts: `find_fieldseg [PATH]` prints the fieldseg executable to use.
# With PATH it checks that PATH is executable; without, it takes the first executable of
# build/tools/fieldseg, build-*/tools/fieldseg under the repository root. On failure it prints one
# line on stderr, prefixed with the calling script's name, and returns 1 (prints nothing on stdout).
#
#   source "$(dirname "$0")/find_fieldseg.sh"
#   fs=$(find_fieldseg "${2:-}") || exit 1
find_fieldseg() {
  local root who c
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  who=$(basename "$0" .sh)
  if [[ -n ${1:-} ]]; then
    if [[ -x $1 && ! -d $1 ]]; then
      echo "$1"
      return 0
    fi
    echo "$who: fieldseg binary '$1' is not an executable file. Build it or pass its path." >&2
    return 1
  fi
  for c in "$root"/build/tools/fieldseg "$root"/build-*/tools/fieldseg; do
    if [[ -x $c ]]; then
      echo "$c"
      return 0
    fi
  done
  echo "$who: no fieldseg binary under '$root/build*/tools'. Build it or pass its path." >&2
  return 1
}
