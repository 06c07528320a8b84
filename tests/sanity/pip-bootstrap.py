"""Offline stand-in for ansible-test's pip bootstrap script (get_pip_<version>.py).

ansible-test downloads its pip bootstrap from a host that is not reachable from every
build machine. `make sanity` copies this file to the cache path ansible-test looks at
first. It installs pip with ensurepip, then runs ``pip install`` with the arguments
ansible-test passed (for example ``pip==25.2``) against the configured package index.
"""

import subprocess
import sys

IGNORED = {'--no-setuptools', '--no-wheel'}

subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check'] + args))
