//! The template helpers every hierarchy can use: `join`, `sorted`, `default` and `lines`
//! (`eq`, `ne` and the other comparisons are Handlebars' own).

use handlebars::{
    Context, Handlebars, Helper, HelperDef, JsonValue, PathAndJson, RenderContext, RenderError,
    RenderErrorReason, ScopedJson,
};

pub fn register(registry: &mut Handlebars<'_>) {
    registry.register_helper("join", Box::new(Join));
    registry.register_helper("sorted", Box::new(Sorted));
    registry.register_helper("default", Box::new(Default));
    registry.register_helper("lines", Box::new(Lines));
    registry.register_helper("json", Box::new(Json));
}

fn fail(message: String) -> RenderError {
    RenderErrorReason::Other(message).into()
}

/// A required parameter; in strict mode a missing variable is an error naming it.
fn param<'a, 'rc>(
    h: &'a Helper<'rc>,
    index: usize,
    what: &str,
) -> Result<&'a PathAndJson<'rc>, RenderError> {
    let p = h
        .param(index)
        .ok_or_else(|| fail(format!("`{}` needs {what}", h.name())))?;
    if p.is_value_missing() {
        return Err(fail(format!(
            "undefined variable `{}` passed to `{}`",
            p.relative_path().map(String::as_str).unwrap_or("?"),
            h.name()
        )));
    }
    Ok(p)
}

/// The items of a list parameter as strings.
fn string_items(h: &Helper<'_>, index: usize) -> Result<Vec<String>, RenderError> {
    let p = param(h, index, "a list")?;
    match p.value() {
        JsonValue::Array(items) => items.iter().map(|v| scalar(h, v)).collect(),
        JsonValue::Null => Ok(Vec::new()),
        other => Err(fail(format!(
            "`{}` needs a list, but `{}` is {}",
            h.name(),
            p.relative_path()
                .map(String::as_str)
                .unwrap_or("its argument"),
            kind(other)
        ))),
    }
}

fn scalar(h: &Helper<'_>, value: &JsonValue) -> Result<String, RenderError> {
    match value {
        JsonValue::String(s) => Ok(s.clone()),
        JsonValue::Number(n) => Ok(n.to_string()),
        JsonValue::Bool(b) => Ok(b.to_string()),
        other => Err(fail(format!(
            "`{}` needs a list of strings, found {} in it",
            h.name(),
            kind(other)
        ))),
    }
}

fn kind(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "a list",
        JsonValue::Object(_) => "a table",
    }
}

/// `{{join LIST SEP}}`: the items joined by SEP.
struct Join;

impl HelperDef for Join {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let items = string_items(h, 0)?;
        let sep = param(h, 1, "a separator")?;
        let sep = scalar(h, sep.value())?;
        Ok(ScopedJson::Derived(JsonValue::String(items.join(&sep))))
    }
}

/// `{{sorted LIST}}`: the list sorted (for `{{#each (sorted …)}}`).
struct Sorted;

impl HelperDef for Sorted {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let mut items = string_items(h, 0)?;
        items.sort();
        Ok(ScopedJson::Derived(JsonValue::Array(
            items.into_iter().map(JsonValue::String).collect(),
        )))
    }
}

/// `{{default VALUE FALLBACK}}`: VALUE unless it is undefined, null or empty.
struct Default;

impl HelperDef for Default {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = h
            .param(0)
            .ok_or_else(|| fail("`default` needs a value and a fallback".into()))?;
        let empty = value.is_value_missing()
            || matches!(value.value(), JsonValue::Null)
            || matches!(value.value(), JsonValue::String(s) if s.is_empty());
        if !empty {
            return Ok(ScopedJson::Derived(value.value().clone()));
        }
        let fallback = param(h, 1, "a fallback")?;
        Ok(ScopedJson::Derived(fallback.value().clone()))
    }
}

/// `{{lines LIST}}`: the items sorted and de-duplicated, one per line, each indented by four
/// spaces, joined by ` \` and a newline, with no backslash after the last item.
struct Lines;

impl HelperDef for Lines {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        Ok(ScopedJson::Derived(JsonValue::String(lines(string_items(
            h, 0,
        )?))))
    }
}

/// `{{json VALUE}}`: VALUE as JSON, e.g. a list for an exec-form `CMD`.
struct Json;

impl HelperDef for Json {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let value = param(h, 0, "a value")?;
        // Lists are written `["a", "b"]`, the way Dockerfiles usually spell exec form.
        let text = match value.value() {
            JsonValue::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(JsonValue::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.to_string(),
        };
        Ok(ScopedJson::Derived(JsonValue::String(text)))
    }
}

pub fn lines(mut items: Vec<String>) -> String {
    items.sort();
    items.dedup();
    items
        .iter()
        .map(|item| format!("    {item}"))
        .collect::<Vec<_>>()
        .join(" \\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, data: serde_json::Value) -> Result<String, String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        register(&mut hb);
        hb.render_template(template, &data)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn lines_sorts_dedups_indents_and_continues() {
        let out = render(
            "RUN x \\\n{{lines p}}\n",
            json!({"p": ["curl", "bash", "curl"]}),
        )
        .unwrap();
        assert_eq!(out, "RUN x \\\n    bash \\\n    curl\n");
        assert_eq!(
            render("{{lines p}}", json!({"p": ["one"]})).unwrap(),
            "    one"
        );
        assert_eq!(render("{{lines p}}", json!({"p": []})).unwrap(), "");
    }

    #[test]
    fn join_sorted_default_eq() {
        let data = json!({"p": ["b", "a"], "s": "", "v": "x"});
        assert_eq!(render("{{join p \", \"}}", data.clone()).unwrap(), "b, a");
        assert_eq!(
            render("{{join (sorted p) \" \"}}", data.clone()).unwrap(),
            "a b"
        );
        assert_eq!(
            render("{{default missing \"fb\"}}", data.clone()).unwrap(),
            "fb"
        );
        assert_eq!(render("{{default s \"fb\"}}", data.clone()).unwrap(), "fb");
        assert_eq!(render("{{default v \"fb\"}}", data.clone()).unwrap(), "x");
        assert_eq!(
            render("{{#if (eq v \"x\")}}yes{{/if}}", data.clone()).unwrap(),
            "yes"
        );
        assert_eq!(
            render("{{#if (ne v \"x\")}}yes{{else}}no{{/if}}", data.clone()).unwrap(),
            "no"
        );
        assert_eq!(
            render("CMD {{json p}}", data).unwrap(),
            "CMD [\"b\", \"a\"]"
        );
    }

    #[test]
    fn helpers_name_an_undefined_variable() {
        let err = render("{{lines vars.nope}}", json!({"vars": {}})).unwrap_err();
        assert!(
            err.contains("undefined variable `vars.nope` passed to `lines`"),
            "{err}"
        );
        let err = render("{{lines v}}", json!({"v": "str"})).unwrap_err();
        assert!(
            err.contains("`lines` needs a list, but `v` is a string"),
            "{err}"
        );
    }
}
