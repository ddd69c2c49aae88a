#!/usr/bin/env bash
# Run one mutant of `make mutate` against some of the selected tests, quickly:
#   scripts/mutant_check.sh NAME [TEST_FILE…]    (from the repository root, after a run)
# Prints "NAME killed" when a test fails with the mutant switched on, "NAME survived"
# when all pass. Fewer tests can only miss kills: what they kill, the whole selection kills.
name=$1; shift
root=$(pwd)
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(tests/cases/test_core_gaps.py)
cd mutants || exit 2
PYTHONPATH="$PWD/src" MUTANT_UNDER_TEST="$name" LINGE_VAR_DIR="$root/var/mutate" \
  LINGE_TEST_DB_TEMPLATE="$root/var/mutate/template.sqlite3" \
  "$root/.venv/bin/python" -m pytest -x -q -p no:cacheprovider "${tests[@]}" >/dev/null 2>&1
case $? in
  0) echo "$name survived" ;;
  1) echo "$name killed" ;;
  *) echo "$name error"; exit 1 ;;
esac
