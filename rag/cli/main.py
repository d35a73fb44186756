"""`rag`: a thin click CLI over `rag.Library`. It parses flags, calls the library and prints.

The commands of this package are added below; faces outside it (`rag ui`, `rag eval`, ...) register
under the `newsground.commands` entry-point group and are imported only when used.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from rag.cli import articles, llm_server, maintenance, stories, web
from rag.cli.common import data_dir_option, echo_error, root_state
from rag.errors import RagError

PLUGIN_GROUP = "newsground.commands"


def _plugins() -> dict:
    return {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}


class RagGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(_plugins()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        plugin = _plugins().get(name)
        if plugin is None:
            return None
        try:
            return plugin.load()
        except ModuleNotFoundError as exc:
            if exc.name and plugin.module.startswith(exc.name):
                return None  # registered by an installation whose package is gone
            raise

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RagError as exc:
            echo_error(ctx, exc)
            ctx.exit(exc.exit_code)


@click.group(cls=RagGroup)
@data_dir_option
@click.version_option(package_name="newsground")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Grounded question answering over news articles, with verified cited spans."""
    root_state(ctx)


for _command in (articles.add, articles.list_articles, articles.show, articles.remove, articles.ask, articles.chat,
                 web.feeds, web.watch, maintenance.doctor, maintenance.export, maintenance.import_,
                 llm_server.command, stories.stories, stories.timeline, stories.changes):
    main.add_command(_command)
