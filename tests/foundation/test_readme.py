"""The README's command table is what `lfr --help` offers: every command and subcommand, no more, no less."""

from __future__ import annotations

import re

import typer.main

from lfr_core.config import PROJECT_ROOT
from lfr_ops.cli.main import app


def readme_commands(text: str) -> set[tuple[str, ...]]:
    """(group, subcommand) or (command,) for each `lfr ...` named in the README's Commands table."""
    table = text.split("## Commands", 1)[1].split("\n\n", 2)[1]
    found: set[tuple[str, ...]] = set()
    for row in table.splitlines()[2:]:
        cell = row.split(" | ")[0].replace("\\|", "|")
        group = None
        for span in re.findall(r"`([^`]+)`", cell):
            words = span.split()
            if words[0] == "lfr":
                group, rest = words[1], words[2:]
            else:
                rest = words
            names = rest[0].split("|") if rest and not rest[0].startswith(("-", "[")) and group else []
            if words[0] == "lfr" and not names:
                found.add((group,))
            found.update((group, name) for name in names)
    return found


def cli_commands() -> set[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: set[tuple[str, ...]] = set()
    for name, command in root.commands.items():
        subcommands = getattr(command, "commands", None)
        found.update({(name, sub) for sub in subcommands} if subcommands else {(name,)})
    return found


def test_parser_reads_groups_and_subcommands():
    text = "## Commands\n\n| c | w |\n|---|---|\n| `lfr services up [--x]`, `down` | a |\n| `lfr feed --s X` | o |\n" \
           "| `lfr alert list\\|adjudicate` | o |\n\nafter"
    assert readme_commands(text) == {("services", "up"), ("services", "down"), ("feed",), ("alert", "list"),
                                     ("alert", "adjudicate")}


def test_readme_command_table_matches_lfr_help():
    documented = readme_commands((PROJECT_ROOT / "README.md").read_text())
    offered = cli_commands()
    assert documented == offered, (f"in the README only: {sorted(documented - offered)}; "
                                   f"in `lfr --help` only: {sorted(offered - documented)}")


def test_readme_feed_row_names_the_required_api_key():
    row = next(line for line in (PROJECT_ROOT / "README.md").read_text().splitlines() if line.startswith("| `lfr feed"))
    assert "--api-key" in row
