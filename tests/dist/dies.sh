#!/usr/bin/env bash
# A process that dies makes the others fail within bounded time (ctest dist_dead_process):
# under mpirun -np N, rank 1 of dist_test exits with status 3 in the middle of a training step
# while the others wait for it in synchronize(). mpirun must end them and exit non-zero within
# 60 s (it takes about one here); exit 124 from timeout means they hung.
# usage: dies.sh MPIEXEC DIST_TEST N
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
start=$(date +%s)
timeout 60 "$1" --oversubscribe -n "$3" "$2" --die-on-rank 1 >/dev/null 2>&1
rc=$?
took=$(($(date +%s) - start))
if ((rc == 124)); then
    echo "dies.sh: the surviving processes were still running after 60 s"
    exit 1
elif ((rc == 0)); then
    echo "dies.sh: mpirun exited 0 although process 1 died"
    exit 1
fi
echo "dies.sh: mpirun ended the job with status $rc after ${took} s"
