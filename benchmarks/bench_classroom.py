"""Class mode under a lecture's load, on SQLite and on a throwaway PostgreSQL cluster.

    python -m benchmarks.bench_classroom [--students 200] [--threads 16]

A lecture of N students: all join, answer a question three times each (changing their mind),
from T threads at once (a server's threads); meanwhile the projector's poll (the answer
counts) and the students' poll (their screen) are timed; then an experiment where every
student submits a fit of 100 groups, and the projector's fetch and summary of all of them.
Prints medians and 95th percentiles in milliseconds, with the machine's load. Loopback only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from benchmarks.pg_cluster import Cluster, pg_bin
from classroom import ClassQuestion, ClassStore, db, experiment, summaries
from teaching.simulate import GPA

OPTIONS = ["first", "second", "third"]


def timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def stats(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):7.2f} ms, p95 {p95:7.2f} ms (n={len(ms)})"


def run(url: str, students: int, threads: int) -> None:
    s = ClassStore(db.engine(url))
    new = s.create_class()
    q = ClassQuestion.build("Which?", OPTIONS, OPTIONS[0], "yes", {"second": "no", "third": "no"})
    with ThreadPoolExecutor(threads) as pool:
        join_ms = []
        people = list(pool.map(lambda _: (lambda t0: (s.join(new.code), (time.perf_counter() - t0) * 1000))(
            time.perf_counter()), range(students)))
        join_ms = [ms for _pid, ms in people]
        people = [pid for pid, _ms in people]
        activity = s.push_question(new.code, new.key, q)
        answers = [(pid, OPTIONS[(i + k) % 3]) for k in range(3) for i, pid in enumerate(people)]
        started = time.perf_counter()
        answer_ms = list(pool.map(lambda a: timed(s.submit_answer, new.code, a[0], activity, a[1]), answers))
        wall = time.perf_counter() - started
        view_ms = list(pool.map(lambda pid: timed(s.student_view, new.code, pid), people))
    poll_ms = [timed(s.question_results, new.code, new.key, activity) for _ in range(50)]
    assert s.question_results(new.code, new.key, activity).total == students
    print(f"  join                 {stats(join_ms)}")
    print(f"  submit an answer     {stats(answer_ms)}; {len(answers) / wall:.0f} answers/s with {threads} threads")
    print(f"  a student's poll     {stats(view_ms)}")
    print(f"  projector's poll     {stats(poll_ms)} (counts of {students} answers)")

    spec = experiment.spec_for(replace(GPA, n_groups=100, n_per_group=4), class_seed=3)
    eid = s.push_experiment(new.code, new.key, spec)
    design = experiment.class_design(spec)
    fit_ms, fits = [], []
    for i in range(min(students, 40)):  # fits are CPU-bound; 40 give the median, reused for the rest
        t0 = time.perf_counter()
        fits.append(experiment.fit_own_sample(design, 1000 + i))
        fit_ms.append((time.perf_counter() - t0) * 1000)
    with ThreadPoolExecutor(threads) as pool:
        submit_ms = list(pool.map(lambda ip: timed(s.submit_sample, new.code, ip[1], eid, fits[ip[0] % len(fits)].seed,
                                                   fits[ip[0] % len(fits)].random, fits[ip[0] % len(fits)].estimates),
                                  enumerate(people)))
    fetch_ms, summary_ms = [], []
    for _ in range(10):
        t0 = time.perf_counter()
        got = s.experiment_samples(new.code, new.key, eid)
        fetch_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        summaries.sampling_summary(got, design.truth, "001")
        summaries.by_group_size(got, design.truth, experiment.group_sizes(design), (2.599, 0.106))
        summary_ms.append((time.perf_counter() - t0) * 1000)
    size_kb = len(json.dumps(fits[0].estimates)) / 1024
    print(f"  a student's fit      {stats(fit_ms)} (100 groups × 4 observations)")
    print(f"  submit a sample      {stats(submit_ms)} ({size_kb:.1f} KiB each)")
    print(f"  projector: fetch     {stats(fetch_ms)} ({students} samples); "
          f"summaries {stats(summary_ms)}")
    s.delete_class(new.code, new.key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{args.students} students, {args.threads} threads, {os.cpu_count()} CPUs, load average {load}")
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (WAL):")
        run(f"sqlite:///{tmp}/bench.sqlite3", args.students, args.threads)
    bin_dir = pg_bin()
    if bin_dir is None:
        print("PostgreSQL: skipped (no initdb/pg_ctl; apt-get install postgresql)")
        return
    with Cluster(bin_dir) as cluster:
        print("PostgreSQL (throwaway cluster on loopback, fsync off):")
        run(cluster.new_database(), args.students, args.threads)
    print(f"load average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
