"""Distribution: published agents onto people's machines.

``paths``: where each agent's file lives (pure: the rules of a path, the default one);
``files``: which agents are distributed and their bytes (published revisions only, never a
draft), the download zip and the conditional-request answers of every download;
``zips``: a deterministic zip written as a stream; ``collections``, ``plugins`` and
``marketplace``: a Claude Code plugin per collection and the marketplace that lists them;
``formats``: the same agent for other assistants (Copilot, OpenCode, Gemini CLI, Cursor).
"""
