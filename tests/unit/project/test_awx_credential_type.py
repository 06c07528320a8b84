"""The AWX credential type for Alertmanager (extensions/awx/credential_types/alertmanager.yml).

What AWX checks when the type is created (inputs, injectors that only use known names), and that
every environment variable it injects is one the Alertmanager modules read (an env fallback of
alertmanager_argument_spec()), so a job that attaches the credential reaches Alertmanager with no
variable set.
"""

from __future__ import annotations

import os
import re

import jinja2
import pytest
import yaml

from ansible.module_utils.basic import env_fallback

from ansible_collections.cloudos.ops.plugins.module_utils._alertmanager import alertmanager_argument_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PATH = os.path.join(ROOT, 'extensions', 'awx', 'credential_types', 'alertmanager.yml')
FIELDS = ['url', 'username', 'password', 'bearer_token', 'ca_cert', 'client_cert', 'client_key']
SECRET = {'password', 'bearer_token', 'client_key'}
FILES = {'ca_cert', 'client_cert', 'client_key'}


def load():
    with open(PATH) as handle:
        return yaml.safe_load(handle)


def env_fallbacks():
    names = {}
    for option, spec in alertmanager_argument_spec().items():
        fallback = spec.get('fallback')
        if fallback and fallback[0] is env_fallback:
            for name in fallback[1]:
                names[name] = option
    return names


def test_the_type_is_a_cloud_credential_with_every_connection_input():
    data = load()
    assert data['name'] and data['description']
    assert data['kind'] == 'cloud'
    fields = data['inputs']['fields']
    assert [f['id'] for f in fields] == FIELDS
    for field in fields:
        assert set(field) <= {'id', 'label', 'type', 'secret', 'multiline', 'help_text', 'format', 'choices'}
        assert field['label'] and field['type'] == 'string'
        assert bool(field.get('secret')) == (field['id'] in SECRET), field['id']
    assert set(data['inputs']['required']) <= set(FIELDS)


def test_injectors_use_only_declared_inputs_and_file_templates():
    data = load()
    injectors = data['injectors']
    assert set(injectors) == {'env', 'file'}
    assert set(injectors['file']) == set('template.%s' % name for name in FILES)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    inputs = dict((name, 'value-of-%s' % name) for name in FIELDS)
    tower = {'filename': dict((name, '/runner/env/tmp-%s' % name) for name in FILES)}
    rendered = dict((name, env.from_string(template).render(tower=tower, **inputs))
                    for name, template in injectors['env'].items())
    assert rendered['CLOUDOS_ALERTMANAGER_URL'] == 'value-of-url'
    assert rendered['CLOUDOS_ALERTMANAGER_TOKEN'] == 'value-of-bearer_token'
    assert rendered['CLOUDOS_ALERTMANAGER_CA_PATH'] == '/runner/env/tmp-ca_cert'
    for name, template in injectors['file'].items():
        assert env.from_string(template).render(**inputs) == 'value-of-%s' % name.split('.', 1)[1]
    # Optional inputs left out: nothing a module would act on (in particular no path to an empty file).
    lenient = jinja2.Environment()
    sparse = dict((name, lenient.from_string(template).render(tower=tower, url='https://am'))
                  for name, template in injectors['env'].items())
    assert sparse.pop('CLOUDOS_ALERTMANAGER_URL') == 'https://am'
    assert set(sparse.values()) == {''}


@pytest.mark.parametrize('name', sorted(load()['injectors']['env']))
def test_every_injected_variable_is_read_by_the_modules(name):
    assert re.match(r'^CLOUDOS_ALERTMANAGER_[A-Z_]+$', name)
    fallbacks = env_fallbacks()
    assert name in fallbacks, ('%s is injected by the credential type but no option of alertmanager_argument_spec() '
                               'reads it (env fallbacks: %s)' % (name, ', '.join(sorted(fallbacks))))
