"""`rwk`: the command line. Thin: parse, call the library, print, exit with its code."""

from __future__ import annotations

import argparse
import os
import sys

from . import clusters
from .errors import RwkError, UsageError


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _Counting(argparse.HelpFormatter):
    """Help where "{count}" says how many exercises there are, counted only when the help is
    printed: counting imports the registry, and with it the Kubernetes client, which `rwk up`
    and every other command would otherwise pay for on each run."""

    def _format_text(self, text: str) -> str:
        return super()._format_text(_counted(text))

    def _expand_help(self, action: argparse.Action) -> str:
        return _counted(super()._expand_help(action))


def _counted(text: str) -> str:
    if "{count}" not in text:
        return text
    from .grading.exercises import in_words
    return text.replace("{count}", in_words())


def _cmd_up(args: argparse.Namespace) -> int:
    options = {}
    if args.binary_source:
        options["binary_source"] = args.binary_source
    if clusters.resolve(args.backend) != "sandbox" and options:
        raise UsageError("--binary-source applies to the sandbox backend only")
    backend = clusters.up(args.backend, _say, **options)
    print(f"cluster ready: backend {backend.backend_name}, context {backend.context}")
    return 0


def _cmd_binaries(args: argparse.Namespace) -> int:
    found = clusters.binaries.ensure(args.binary_source, _say)
    for name, path in sorted(found.paths.items()):
        print(f"{name:24} {path}")
    return 0


def _cmd_node_image(args: argparse.Namespace) -> int:
    from .clusters import nodeimage
    tag = nodeimage.build(_say)
    print(tag)
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    done = clusters.down(_say, args.backend, yes=args.yes,
                         confirm=_confirm if sys.stdin.isatty() else None)
    return 0 if done else 1


def _cmd_stop(args: argparse.Namespace) -> int:
    clusters.stop(_say, args.backend)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    status = clusters.current(args.backend).status()
    print(status.render())
    return 0 if status.healthy else 1


def _cmd_reset(args: argparse.Namespace) -> int:
    removed = clusters.current(args.backend).reset(_say)
    print(f"removed {len(removed)} namespace(s): {', '.join(removed)}" if removed
          else "no course namespaces to remove")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .grading.runner import grade   # loads the kubernetes client: only `check` pays for it
    report = grade(args.exercise, namespace=args.namespace, context=args.context,
                   kubeconfig=args.kubeconfig, wait=args.wait)
    if args.output == "json":
        print(report.to_json())
    else:
        print(report.to_text(color=sys.stdout.isatty() and "NO_COLOR" not in os.environ))
    return 0 if report.passed else 1


def _cmd_progress(args: argparse.Namespace) -> int:
    from .grading.progress import progress   # loads the kubernetes client, as `check` does
    found = progress(namespace=args.namespace, context=args.context, kubeconfig=args.kubeconfig)
    print(found.to_json() if args.output == "json" else found.to_text())
    return 0 if found.first_failing is None else 1


def _cmd_audit(args: argparse.Namespace) -> int:
    from .grading.audit import audit   # loads the kubernetes client, as `check` does
    report = audit(namespace=args.namespace, context=args.context, kubeconfig=args.kubeconfig,
                   strict=args.strict)
    print(report.to_json() if args.output == "json" else report.to_text())
    return 0 if report.clean else 1


# --- rwk classroom (CLASSROOM.md) ---------------------------------------------------------

def _confirm(question: str) -> bool:
    """Ask on the terminal; anything but yes is no."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def _cmd_classroom(args: argparse.Namespace) -> int:
    from . import classroom   # loads the kubernetes client, as `check` does
    roster = classroom.load_roster(args.roster)
    where = {"context": args.context, "kubeconfig": args.kubeconfig}
    if args.action == "create":
        try:
            hours = float(args.hours)
        except ValueError:
            raise UsageError(f"--hours {args.hours}: not a number of hours") from None
        done = classroom.create(roster, args.kubeconfigs, budget=args.budget, hours=hours,
                                server=args.server, say=_say, **where)
    elif args.action == "verify":
        done = classroom.verify(roster, args.kubeconfigs, say=_say, **where)
    else:
        done = classroom.delete(roster, yes=args.yes, say=_say,
                                confirm=_confirm if sys.stdin.isatty() else None,
                                kubeconfigs_dir=args.kubeconfigs, **where)
    return 0 if done else 1


def _instructor_options() -> argparse.ArgumentParser:
    """`--context`/`--kubeconfig` naming the instructor's cluster (classroom, grade)."""
    options = argparse.ArgumentParser(add_help=False)
    target = options.add_argument_group("the instructor's cluster")
    target.add_argument("--context", metavar="CTX",
                        help="kube context (default: the current one)")
    target.add_argument("--kubeconfig", metavar="PATH",
                        help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    return options


def _classroom_parser(sub: argparse._SubParsersAction) -> None:
    """`rwk classroom create|verify|delete ROSTER`, with CLASSROOM.md's options."""
    classroom = sub.add_parser(
        "classroom", help="a class on one shared cluster: a namespace, rights, budget and "
        "kubeconfig per student of a roster",
        description="Teach a class on one shared cluster (CLASSROOM.md). ROSTER is a CSV "
        "file with a `student` column. Exit 0 when done, 1 when a student could not be "
        "set up or verified, 2 on bad input, 3 when the cluster cannot be reached.")
    actions = classroom.add_subparsers(dest="action", required=True, metavar="ACTION")
    cluster = _instructor_options()
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument("--kubeconfigs", default="kubeconfigs", metavar="DIR",
                       help="the students' kubeconfig files, DIR/<namespace>.kubeconfig "
                       "(default: kubeconfigs)")

    create = actions.add_parser(
        "create", parents=[files, cluster],
        help="make (or repair) each student's namespace, rights, budget and kubeconfig",
        description="For each student of ROSTER: a namespace, a ServiceAccount and its "
        "rights, a budget (ResourceQuota and LimitRange) and a kubeconfig whose token comes "
        "from the TokenRequest API. Running it again changes nothing that is right and "
        "repairs what is not.")
    create.add_argument("--budget", default="small", metavar="small|medium|large",
                        help="the size of each namespace's quota (default: small, which "
                        "holds every exercise's reference solution at once)")
    create.add_argument("--hours", default="12", metavar="H",
                        help="how long the students' tokens last (default: 12; the cluster "
                        "may shorten it, and create says so)")
    create.add_argument("--server", metavar="URL",
                        help="the API address written into the kubeconfigs, the one students "
                        "reach (default: the instructor's)")

    verify = actions.add_parser(
        "verify", parents=[files, cluster],
        help="check every student's kubeconfig: the token works, each right allowed or "
        "refused as it must be",
        description="With each student's own kubeconfig, ask the API server "
        "(SelfSubjectAccessReview) whether each right is allowed or refused as it must be. "
        "Prints a table, one row per student. Exit 0 when all hold, 1 otherwise.")

    delete = actions.add_parser(
        "delete", parents=[files, cluster],
        help="remove what create made for the roster's students, and nothing else",
        description="Delete the roster's classroom namespaces (found by the labels create "
        "set) and their cluster-wide rights; the shared admission policy goes with the "
        "last classroom namespace; then the kubeconfig files create wrote for them in "
        "--kubeconfigs (a file changed since is left). Asks first, unless --yes.")
    delete.add_argument("--yes", action="store_true",
                        help="do not ask (needed when stdin is not a terminal)")
    for action in (create, verify, delete):
        action.add_argument("roster", metavar="ROSTER", help="the roster, a CSV file")
        action.set_defaults(run=_cmd_classroom)


# --- rwk grade (CLASSROOM.md) -------------------------------------------------------------

def _cmd_grade(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from . import classroom, gradebook   # loads the kubernetes client, as `check` does
    from .classroom.grading import chosen, grade_class
    roster = classroom.load_roster(args.roster)
    names = chosen(args.exercises)
    formats = [name.strip() for name in (args.format or "").split(",") if name.strip()]
    gradebook.check_formats(formats)
    started = time.monotonic()
    if args.submissions:
        from .classroom.submissions import grade_submissions
        _say(f"grading {len(roster.students)} student(s) x {len(names)} exercise(s) from "
             f"the notebooks in {args.submissions}/, {args.jobs} student(s) at once")
        grades = grade_submissions(roster, args.submissions, names, out=args.out,
                                   wait=args.wait, context=args.context,
                                   kubeconfig=args.kubeconfig, jobs=args.jobs, say=_say)
    else:
        _say(f"grading {len(roster.students)} student(s) x {len(names)} exercise(s) live"
             + (f", waiting up to {args.wait:g} s for them to pass" if args.wait else ""))
        grades = grade_class(roster, names, wait=args.wait, context=args.context,
                             kubeconfig=args.kubeconfig, jobs=args.jobs, say=_say)
    written = gradebook.write(grades, Path(args.out), formats)
    passed = sum(all(r.passed for r in g.reports) for g in grades.students)
    print(f"graded {len(grades.students)} student(s) in {time.monotonic() - started:.1f} s "
          f"({passed} passed every exercise): {len(written)} file(s) in {args.out}/")
    return 0


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def _grade_parser(sub: argparse._SubParsersAction) -> None:
    """`rwk grade ROSTER`, with CLASSROOM.md's options."""
    grade = sub.add_parser(
        "grade", parents=[_instructor_options()], formatter_class=_Counting,
        help="grade every student of a roster, into the files a gradebook takes",
        description="Grade each student of ROSTER for each exercise, live in their namespace, "
        "reading the cluster once for the whole class. Writes grades.json, gradebook.csv, "
        "criteria.csv, canvas.csv and feedback/<namespace>.html into --out. Exit 0 when the "
        "gradebook is written, whatever the grades; 2 on bad input; 3 when the cluster "
        "cannot be reached or refuses the credentials.")
    grade.add_argument("roster", metavar="ROSTER", help="the roster, a CSV file")
    grade.add_argument("--exercises", default="all", metavar="all|NAME,NAME...",
                       help="the exercises to grade (default: all {count})")
    grade.add_argument("--out", default="grades", metavar="DIR",
                       help="where the files go (default: grades)")
    grade.add_argument("--wait", type=_seconds, default=0, metavar="SECONDS",
                       help="read again until every report passes or SECONDS pass")
    grade.add_argument("--submissions", metavar="DIR",
                       help="grade handed-in notebooks instead: DIR/<student id or "
                       "namespace>/NN-exercise.ipynb, each student's re-run with papermill in "
                       "a fresh namespace of a grading cluster (--context/--kubeconfig, else "
                       "a sandbox of its own); also writes executed/")
    grade.add_argument("--format", metavar="FORMAT,...",
                       help="more files: gradescope, github-classroom")
    grade.add_argument("--jobs", type=_jobs, default=8, metavar="N",
                       help="students graded at once (default: 8); with --submissions, "
                       "students whose notebooks run at once")
    grade.set_defaults(run=_cmd_grade)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds: {text!r}")
    return value


def _reading_options() -> argparse.ArgumentParser:
    """The options of every command that reads a namespace of a cluster (check, audit):
    where to read (EXERCISES.md's target) and how to print what was found."""
    reading = argparse.ArgumentParser(add_help=False)
    target = reading.add_argument_group("target")
    target.add_argument("-n", "--namespace", help="namespace to read (default: production)")
    target.add_argument("--context", help="kube context (default: the current one)")
    target.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or "
                        "~/.kube/config)")
    reading.add_argument("--output", choices=("text", "json"), default="text")
    return reading


def parser() -> argparse.ArgumentParser:
    """The argument parser of `rwk` and its subcommands."""
    reading = _reading_options()
    top = argparse.ArgumentParser(
        prog="rwk", description="Real-World Kubernetes: run the course's cluster and grade "
        "exercises against it.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start the course cluster (or keep the running one)")
    up.add_argument("--backend", default="auto", choices=clusters.NAMES,
                    help="auto: kind where Docker and kind are present, else the sandbox "
                         "(default: auto)")
    up.add_argument("--binary-source", choices=clusters.binaries.SOURCES,
                    help="sandbox only: where missing binaries come from (default: "
                         "$RWK_BINARY_SOURCE or auto = download, else build with Go)")
    up.set_defaults(run=_cmd_up)

    check = sub.add_parser("check", parents=[reading],
                           help="grade an exercise against the live cluster",
                           description="Grade EXERCISE by reading the live cluster. Exit 0 "
                           "when every criterion passes, 1 when one fails, 2 on bad input, "
                           "3 when the cluster cannot be reached or refuses the credentials.")
    check.add_argument("exercise", metavar="EXERCISE",
                       help="namespaces, configmaps, secrets, ...")
    check.add_argument("--wait", type=_seconds, default=0, metavar="SECONDS",
                       help="poll until every criterion passes or SECONDS pass")
    check.set_defaults(run=_cmd_check)

    audit = sub.add_parser("audit", parents=[reading],
                           help="find the common pitfalls in a namespace",
                           description="Read every workload in the namespace and report the "
                           "pitfalls lessons/10-pitfalls.ipynb teaches, each with its lesson. "
                           "Exit 0 when none is found, 1 when some are, 2 on bad input, 3 when "
                           "the cluster cannot be reached or refuses the credentials. "
                           "Hardening advice (lessons 12 and 13: a container that may run as "
                           "root, pods serving traffic with no NetworkPolicy, ingress-nginx's "
                           "annotations) is shown apart and not counted unless --strict.")
    audit.add_argument("--strict", action="store_true",
                       help="count the hardening advice as findings (exit 1 when any)")
    audit.set_defaults(run=_cmd_audit)

    progress = sub.add_parser("progress", parents=[reading],
                              help="grade every exercise in a namespace at once",
                              formatter_class=_Counting,
                              description="Grade all {count} exercises in the namespace from "
                              "one read of the cluster and print a table: exercise, score, "
                              "passed, and the lesson to read next for the first failing one. "
                              "Exit 0 when every exercise passes, 1 when one does not, 2 on bad "
                              "input, 3 when the cluster cannot be reached or refuses the "
                              "credentials.")
    progress.set_defaults(run=_cmd_progress)

    _classroom_parser(sub)
    _grade_parser(sub)

    fetch = sub.add_parser("binaries", help="download or build the sandbox's binaries into "
                           "the cache, then exit (the sandbox's `up` does this by itself)")
    fetch.add_argument("--binary-source", choices=clusters.binaries.SOURCES)
    fetch.set_defaults(run=_cmd_binaries)

    node = sub.add_parser(
        "node-image", help="build a kind node image and the images its cluster runs, here, "
        "from Debian's packages and Go modules (for machines no registry answers; `rwk up "
        "--backend kind` does this by itself there); print its tag",
        description="Needs root (debootstrap), Docker, Go and gcc. The first build takes about "
        "20 minutes on 2 cores; a second one with no pin changed only looks the images up.")
    node.set_defaults(run=_cmd_node_image)

    for name, helptext, run in (
            ("stop", "stop the cluster and keep everything in it; `rwk up` brings it back",
             _cmd_stop),
            ("down", "delete the cluster the course started, and the work in it", _cmd_down),
            ("status", "backend, context, server version, nodes and component health",
             _cmd_status),
            ("reset", "delete the course's namespaces, keep the cluster", _cmd_reset)):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("--backend", choices=clusters.NAMES[1:],
                             help="default: the backend the last `rwk up` started")
        command.set_defaults(run=run)
        if name == "down":
            command.description = (
                "Delete the course's cluster. When namespaces of the course hold work, say "
                "what will be lost and ask first; `rwk stop` keeps it instead. Exit 0 when "
                "deleted, 1 when not confirmed, 2 when it needs confirming and stdin is not a "
                "terminal (use --yes).")
            command.add_argument("--yes", action="store_true",
                                 help="do not ask (needed when stdin is not a terminal)")
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rwk` console script."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except RwkError as error:
        print(f"rwk {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"rwk {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:   # a bug of ours: one line, the traceback only on request
        if os.environ.get("RWK_DEBUG"):
            raise
        print(f"rwk {args.command}: internal error: {type(error).__name__}: {error} "
              "(set RWK_DEBUG=1 to see the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
