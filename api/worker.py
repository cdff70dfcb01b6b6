"""The app as each `chatbot serve` worker builds it: `api.app:create_app` with the cyclic
garbage collector paused while the app is imported and built.

A worker's start allocates a few hundred thousand objects that live as long as it does
(modules, jieba's dictionary, the FAQ index, the intent model). The collector kept walking
all of them while they were being made: ~0.5 s of a start on this 2-core machine (imports
and `build_services`, measured with the collector off and on). So it is paused until the
app is built; the objects are then frozen
(`gc.freeze`: moved to a generation the collector never examines, so the full collections
while serving do not walk them either) and the collector is turned back on for what
requests allocate. The price is the cyclic garbage the start leaves behind, which is never
freed: about 2,500 objects (and ~1,600 more after building the FAQ index in the worker),
once per process.

Only for the process `chatbot serve` runs: tests and tools build apps with
`api.app.create_app` directly (a freeze there would keep every test's garbage). The freeze
must come before the collector is back on, or its first collection would walk everything
the start made, all of it still young.
"""
from __future__ import annotations

import gc


def create_app():
    enabled = gc.isenabled()
    gc.disable()
    try:
        from api.app import create_app as build

        return build()
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
