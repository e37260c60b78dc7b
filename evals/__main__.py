"""Write an answer key as JSON Lines, one question per line, for harnesses that work offline.

    python -m evals --count 200 --seed 7 --out key.jsonl
    python -m evals --sandbox sbx_... --kinds net_worth,subscriptions

It reads the database directly (BANK_DATABASE_URL, or --database-url), or a sandbox of it
with --sandbox; the key is the one GET /eval/questions gives with the same arguments.
"""

import argparse
import sys
from collections.abc import Sequence

from core.settings import get_settings, without_password
from evals.key import make_key, parse_choice
from evals.kinds import DIFFICULTIES, KINDS
from evals.schemas import MAX_QUESTIONS


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    settings = get_settings()
    shown = without_password(settings.database_url)
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50, help=f"questions, 1 to {MAX_QUESTIONS}")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same key")
    parser.add_argument("--kinds", help="comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--difficulty", help="comma-separated: " + ", ".join(DIFFICULTIES))
    parser.add_argument(
        "--database-url",
        default=settings.database_url,
        help=f"the bank's database (BANK_DATABASE_URL; now {shown})",
    )
    parser.add_argument("--sandbox", help="a sandbox of that bank, by its id")
    parser.add_argument("--out", help="file to write (default: standard output)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from core.errors import BankError
    from db import open_database, use_bank_secret

    args = parse_args(argv)
    settings = get_settings().model_copy(update={"database_url": args.database_url})
    database = open_database(settings.database_url, threads=1, queue=1, queue_timeout=60)
    # The ids the bank itself would issue: signed with its secret, a sandbox's too.
    use_bank_secret(database.engine, settings.cursor_secret)
    try:
        if args.sandbox:
            from sandboxes.manager import SandboxManager

            database = SandboxManager(database, settings).database_for_here(args.sandbox)
        key = database.run_here(
            lambda session: make_key(
                session,
                seed=args.seed,
                count=args.count,
                kinds=parse_choice(args.kinds, KINDS, "kinds"),
                difficulties=parse_choice(args.difficulty, DIFFICULTIES, "difficulty"),
            )
        )
    except BankError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    lines = "".join(question.model_dump_json() + "\n" for question in key.questions)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(lines)
        print(f"{key.count} questions as of {key.as_of} written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
