#!/usr/bin/env python3
"""Writes golden.json: reference renderings by Python Jinja2, configured as
HF transformers' apply_chat_template (ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loopcontrols, raise_exception, strftime_now and
the tojson override). Run from this folder: python3 gen_golden.py"""
import json
from datetime import datetime

import jinja2
from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

MODELS = ["llama-3-instruct", "qwen2.5-instruct", "smollm2-instruct", "mistral-instruct"]
SPECIALS = ["bos_token", "eos_token", "unk_token", "pad_token"]

CONVERSATIONS = {
    "user": [{"role": "user", "content": "Hello!"}],
    "system_user": [{"role": "system", "content": "You are a calm person."},
                    {"role": "user", "content": "How was your day?"}],
    "multi_turn": [{"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello, how can I help?"},
                   {"role": "user", "content": "Tell me about yourself.\nBe brief."}],
    "system_multi_turn": [{"role": "system", "content": "Answer in French."},
                          {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Bonjour !"},
                          {"role": "user", "content": "Thanks"}],
    "whitespace": [{"role": "user", "content": "  \n padded text \t\n"},
                   {"role": "assistant", "content": "\nok\n"}],
    "unicode": [{"role": "user", "content": "Привет 👋 — ça va? 你好"}],
    "assistant_first": [{"role": "assistant", "content": "I start."},
                        {"role": "user", "content": "Fine."}],
    "two_users": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    "tool_role": [{"role": "user", "content": "a"}, {"role": "tool", "content": "42"}],
}

# Small templates for the Jinja features chat templates rely on.
FEATURES = {
    "trim_lstrip_blocks": "{% for m in messages %}\n  {{ m.role }}: {{ m.content }}\n  {% if loop.last %}\n    last\n  {% endif %}\n{% endfor %}\n",
    "dash_control": "  {%- for m in messages -%}\n [{{- m.role -}}] \n{%- endfor %}\n  {{- 'end' }}\n\n",
    "plus_keeps_indent": "  {%+ if true %}x{% endif %}\n  {% if true %}y{% endif %}\n",
    "str_methods": "{% for m in messages %}[{{ m.content.strip() }}|{{ m.content.lstrip() }}|{{ m.content.rstrip() }}|{{ m.content.strip('\\n ') }}]{% endfor %}",
    "trim_filter_precedence": "{% for m in messages %}{{ '<' + m.content | trim + '>' }}{% endfor %}",
    "loop_controls": "{% for m in messages %}{% if m.role == 'system' %}{% continue %}{% endif %}{% if loop.index > 3 %}{% break %}{% endif %}{{ loop.index0 }}={{ m.content }};{% endfor %}",
    "loop_vars": "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}{% if not loop.last %},{% endif %}{% endfor %}",
    "namespace": "{% set ns = namespace(sys=false, n=0) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.sys = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.sys }} {{ ns.n }}",
    "indexing": "{{ messages | length }} {{ messages[-1].content | upper }} {{ (messages | first).role }} {{ messages[0]['content'][:3] }}",
    "none_tests": "{% if tools is not none %}T{% else %}N{% endif %}{% if documents %}D{% endif %}{% if foo is defined %}F{% endif %}{{ foo }}|{{ bos_token }}|{{ eos_token }}",
    "conditional_expr": "{{ 'gen' if add_generation_prompt else 'nogen' }}{{ '-' ~ messages|length }}",
    "range": "{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(7, 1, -2) %}{{ i }}{% endfor %}",
    "macro": "{% macro turn(r, c) %}<{{ r }}>{{ c }}</{{ r }}>{% endmacro %}{% for m in messages %}{{ turn(m.role, m.content) }}{% endfor %}",
    "split_join": "{{ messages[0].content.split(' ') | join('|') }}",
    "replace_filter": "{% for m in messages %}{{ m.content | replace('\\n', '\\\\n') }};{% endfor %}",
    "selectattr": "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
    "comment_raw": "{# comment #}\n{% raw %}{{ not rendered }}{% endraw %}\n{{ 'a' }}",
    "startswith": "{% for m in messages %}{% if m.content.startswith('H') %}H{% else %}-{% endif %}{% endfor %}",
    "raise": "{% if messages[0].role != 'system' %}{{ raise_exception('first message must be system') }}{% endif %}ok",
    "set_block_ws": "{% set x = messages[0].content %}\n\n{{ x }}\n",
    "in_operator": "{{ 'user' in (messages | map(attribute='role') | list) }}{{ 'H' in messages[0].content }}{{ 'role' in messages[0] }}{{ 'x' not in messages[0] }}",
    "negative_index": "{{ messages[-1].role }}|{{ messages[-1]['content'] }}|{% if messages[-2] is defined %}{{ messages[-2].role }}{% endif %}",
    "slicing": "{% for m in messages[1:] %}{{ m.role }},{% endfor %}{{ messages[1:] | length }}{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %}",
    "loop_lookahead": "{% for m in messages %}{{ m.role }}{% if not loop.last and messages[loop.index0 + 1].role == m.role %}!{% endif %};{% endfor %}",
}
FEATURE_CONVS = ["user", "system_multi_turn", "whitespace"]


def environment():
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_text(v):
    return v["content"] if isinstance(v, dict) else v


def render(env, src, specials, msgs, gen):
    variables = {k: v for k, v in specials.items() if v is not None}
    try:
        out = env.from_string(src).render(messages=msgs, tools=None, documents=None,
                                          add_generation_prompt=gen, **variables)
        return {"rendered": out}
    except TemplateError as e:
        return {"error": str(e)}


def main():
    env = environment()
    cases = []
    for model in MODELS:
        cfg = json.load(open(f"{model}/tokenizer_config.json"))
        specials = {k: token_text(cfg[k]) for k in SPECIALS if k in cfg}
        for conv, msgs in CONVERSATIONS.items():
            for gen in (True, False):
                case = {"name": f"{model}/{conv}/gen={gen}", "config": model,
                        "messages": msgs, "add_generation_prompt": gen}
                case.update(render(env, cfg["chat_template"], specials, msgs, gen))
                cases.append(case)
    specials = {"bos_token": "<s>", "eos_token": "</s>"}
    for name, src in FEATURES.items():
        for conv in FEATURE_CONVS:
            for gen in (True, False):
                msgs = CONVERSATIONS[conv]
                case = {"name": f"feature/{name}/{conv}/gen={gen}", "template": src, "specials": specials,
                        "messages": msgs, "add_generation_prompt": gen}
                case.update(render(env, src, specials, msgs, gen))
                cases.append(case)
    out = {"generator": f"gen_golden.py with jinja2 {jinja2.__version__}", "cases": cases}
    with open("golden.json", "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
