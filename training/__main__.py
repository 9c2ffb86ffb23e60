"""Command line: python3 -m training {train,export,gradcheck} ...

When the interpreter running this has no PyTorch (e.g. a pyenv python3 ahead of Debian's on PATH), the
command re-runs itself with /usr/bin/python3 (or $TAGMAP_PYTHON), where Debian's python3-torch lives.
"""
import os
import sys

USAGE = '''usage: python3 -m training COMMAND [options]

commands:
  train      train a recipe (python3 -m training train --recipe fashion --help)
  export     write model.onnx, card.json and golden.json from a checkpoint
  gradcheck  check autograd on the nets against finite differences'''


def ensure_torch():
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    for python in [os.environ.get('TAGMAP_PYTHON'), '/usr/bin/python3']:
        if python and os.path.realpath(python) != os.path.realpath(sys.executable) and os.access(python, os.X_OK):
            if os.environ.get('TAGMAP_TRAINING_REEXEC') != python:
                os.environ['TAGMAP_TRAINING_REEXEC'] = python
                os.execv(python, [python, '-m', 'training', *sys.argv[1:]])
    sys.exit(f'error: no Python with PyTorch found (tried {sys.executable}, /usr/bin/python3). Install it with '
             '"sudo apt-get install python3-torch python3-torchvision" or set TAGMAP_PYTHON.')


def main(argv):
    if not argv or argv[0] in ('-h', '--help'):
        print(USAGE)
        return 0 if argv else 2
    ensure_torch()
    from .errors import CheckFailed, UsageError
    command, rest = argv[0], argv[1:]
    try:
        if command == 'train':
            from .train import run
        elif command == 'export':
            from .export import run
        elif command == 'gradcheck':
            from .gradcheck import run
        else:
            print(f"error: unknown command '{command}'\n\n{USAGE}", file=sys.stderr)
            return 2
        return run(rest) or 0
    except UsageError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    except CheckFailed as error:
        print(f'check failed: {error}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
