#!/usr/bin/env bash
# A process that hangs makes the others fail within bounded time (ctest dist_hung_process): under
# mpirun -np N with dist::set_timeout(2 s), rank 1 of dist_test skips a training step and sleeps
# while the others wait for it in synchronize(). Each of the others must report a TimeoutError
# naming synchronize, and the job must end, non-zero, within 60 s (exit 124 from timeout: they
# hung). Without the timeout they would wait forever: mpirun sees no process exit.
# usage: hangs.sh MPIEXEC DIST_TEST N
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
start=$(date +%s)
out=$(timeout 60 "$1" --oversubscribe -n "$3" "$2" --hang-on-rank 1 2>&1)
rc=$?
took=$(($(date +%s) - start))
fail() {
    echo "hangs.sh: $1"
    echo "--- output:"
    echo "$out"
    exit 1
}
((rc == 124)) && fail "the processes were still running after 60 s"
((rc == 0)) && fail "mpirun exited 0 although process 1 hung"
reports=$(grep -c "TimeoutError after .* s: distributed_data_parallel::synchronize: timed out after" <<<"$out")
((reports == $3 - 1)) || fail "expected a TimeoutError from synchronize on each of the $(($3 - 1)) other processes; got $reports"
echo "hangs.sh: $reports processes timed out in synchronize; mpirun ended the job with status $rc after ${took} s"
grep -m1 "TimeoutError" <<<"$out"
