"""``cuttings init [DIR]``: editable copies of the packaged configuration files;
``cuttings docs [NAME]``: where the guides are, installed or in a checkout."""
from __future__ import annotations

import shutil
from pathlib import Path

import click

from cuttings import paths
from cuttings.cli_common import fail


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite configuration files that already exist in DIR.")
def init(directory, force):
    """Write editable copies of the configuration files (sources, watchlist, label scheme).

    DIR defaults to the home folder ($CUTTINGS_HOME, else the user data folder; in a
    source checkout, its data/ folder). Every command reads a configuration file from the
    home folder when it is there, else the packaged default, so editing these copies
    changes what cuttings does. Run it again at any time: it writes only the files that are
    missing (a newer version's new ones, say) and leaves your edited copies alone unless
    --force is given.

    \b
    Examples:
        cuttings init
        cuttings init /srv/cuttings && export CUTTINGS_HOME=/srv/cuttings
    """
    target = directory if directory is not None else paths.home()
    if target.exists() and not target.is_dir():
        fail(f"{target} is not a folder")
    kept = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in paths.CONFIG_FILES:
            source = paths.package_data(name)
            if (target / name).exists() and (target / name).resolve() == source.resolve():
                click.echo(f"{target / name}: is the packaged default itself (a source checkout); left as it is")
                continue
            if (target / name).exists() and not force:
                kept.append(name)
                continue
            shutil.copyfile(source, target / name)
            click.echo(f"wrote {target / name}")
    except OSError as exc:
        fail(f"cannot write to {target}: {exc.strerror or exc}")
    if kept:
        click.echo(f"kept {', '.join(kept)} in {target} (already there; --force replaces "
                   f"{'them' if len(kept) > 1 else 'it'} with the packaged default)")
    click.echo(f"next: edit them (each file's comments say what its fields mean; the guide: "
               f"{paths.doc('configuration.md')}), then `cuttings doctor` checks them")
    if directory is not None and target.resolve() != paths.home().resolve():
        click.echo(f"cuttings reads them when CUTTINGS_HOME={target.resolve()} is set "
                   f"(or pass --sources/--watchlist/--scheme)")


def _guides() -> dict[str, Path]:
    return {path.stem: path for path in sorted(paths.docs_dir().glob("*.md"))}


def _examples() -> dict[str, Path]:
    """The deploy/ examples by file name (cuttings.cron, cuttings.service ...)."""
    return {path.name: path for path in sorted(path for pattern in paths.DEPLOY_EXAMPLES
                                               for path in paths.deploy_dir().glob(pattern))}


def _example_title(path: Path) -> str:
    """An example's first comment line, its first sentence."""
    try:
        with path.open(encoding="utf-8") as text:
            first = next((line.lstrip("#").strip() for line in text if line.startswith("#")), "")
    except OSError:
        return ""
    return first.split(". ", 1)[0].rstrip(".")


def _title(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as text:
            return next((line.lstrip("#").strip() for line in text if line.startswith("# ")), "")
    except OSError:
        return ""


@click.command("docs")
@click.argument("name", required=False)
def docs(name):
    """Where the guides and the deploy examples are, installed with cuttings, or one's path.

    Help texts and error hints name guides as docs/NAME.md and the scheduling examples (a crontab,
    systemd units and timer) as deploy/FILE; this prints where they are on this machine, installed
    or in a source checkout. NAME: a guide's name, with or without `docs/` and `.md` (operations,
    docs/configuration.md ...), or an example's file name, with or without `deploy/`
    (cuttings.timer, deploy/cuttings.cron ...).

    \b
    Examples:
        cuttings docs                          # the folders, every guide's title and every example
        cuttings docs operations               # the path of docs/operations.md
        less "$(cuttings docs configuration)"
        cp "$(cuttings docs cuttings.timer)" /etc/systemd/system/
    """
    guides, examples = _guides(), _examples()
    if not guides:
        fail(f"no guides found in {paths.docs_dir()} (reinstall cuttings)")
    if name is None:
        click.echo(f"guides in {paths.docs_dir()}:")
        width = max(len(stem) for stem in guides)
        for stem, path in guides.items():
            click.echo(f"  {stem:<{width}}  {_title(path)}")
        if examples:
            click.echo(f"examples to adapt in {paths.deploy_dir()} (docs/operations.md, \"Scheduling\"):")
            width = max(len(file_name) for file_name in examples)
            for file_name, path in examples.items():
                click.echo(f"  {file_name:<{width}}  {_example_title(path)}")
        click.echo("open one with: cuttings docs NAME (prints its path)")
        return
    if Path(name).name in examples:
        click.echo(str(examples[Path(name).name]))
        return
    stem = Path(name).name.removesuffix(".md")
    if stem not in guides:
        fail(f"no guide or example named {name!r}: guides {', '.join(guides)}; examples {', '.join(examples)}")
    click.echo(str(guides[stem]))
