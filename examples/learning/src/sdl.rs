//! Progressive override labels in the SDL a service reports.
//!
//! async-graphql 7 writes `@override(from: "monolith")` for a field marked
//! `#[graphql(override_from = "monolith")]`, but has no way to add the
//! `label:` argument of Federation 2.7, and it links Federation v2.5. So a
//! service that moves a field progressively marks it with `override_from`
//! as usual and lists it in [`Label`]; the server then rewrites the
//! `_service { sdl }` answer: the link becomes v2.7 and that field's
//! directive becomes `@override(from: "monolith", label: "percent(25)")`.

/// A field taken over progressively: `Type.field` with this `label`.
#[derive(Clone, Copy, Debug)]
pub struct Label {
    pub type_name: &'static str,
    pub field: &'static str,
    pub label: &'static str,
}

const V25: &str = "https://specs.apollo.dev/federation/v2.5";
const V27: &str = "https://specs.apollo.dev/federation/v2.7";

/// Adds the labels to `sdl`. An error names a label whose field has no
/// `@override` in the SDL (the service would silently move all of it).
pub fn add_labels(sdl: &str, labels: &[Label]) -> Result<String, String> {
    if labels.is_empty() {
        return Ok(sdl.to_owned());
    }
    let mut done = vec![false; labels.len()];
    let mut current_type: Option<String> = None;
    let mut out = String::with_capacity(sdl.len() + 64);
    for line in sdl.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indented = trimmed.len() != line.len();
        if !indented {
            // `type X ... {`, `extend type X ... {`, `interface X {`, or `}`.
            let mut words = trimmed.split_whitespace();
            let mut word = words.next();
            if word == Some("extend") {
                word = words.next();
            }
            current_type = match word {
                Some("type" | "interface") => {
                    words.next().map(|n| n.trim_end_matches('{').to_owned())
                }
                _ => None,
            };
            out.push_str(line);
            continue;
        }
        let field = trimmed
            .split(|c: char| c == ':' || c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let mut line = line.to_owned();
        for (i, label) in labels.iter().enumerate() {
            if current_type.as_deref() == Some(label.type_name) && field == label.field {
                let Some(at) = line.find("@override(from: \"") else {
                    continue;
                };
                let Some(close) = line[at..].find(')') else {
                    continue;
                };
                let close = at + close;
                line.insert_str(close, &format!(", label: \"{}\"", label.label));
                done[i] = true;
            }
        }
        out.push_str(&line);
    }
    if let Some(i) = done.iter().position(|d| !d) {
        let l = labels[i];
        return Err(format!(
            "{}.{} has no @override to label {:?}: mark it #[graphql(override_from = \"...\")]",
            l.type_name, l.field, l.label
        ));
    }
    Ok(out.replace(V25, V27))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "extend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@override\"]\n)\n\ntype User @key(fields: \"id\") {\n\tid: ID!\n\tprogress: [ExerciseProgress!]! @override(from: \"monolith\")\n\tname(style: Int): String! @override(from: \"monolith\")\n}\n\ntype Other {\n\tprogress: Int! @override(from: \"monolith\")\n}\n";

    #[test]
    fn labels_the_listed_field_only() {
        let out = add_labels(
            SDL,
            &[Label {
                type_name: "User",
                field: "progress",
                label: "percent(25)",
            }],
        )
        .unwrap();
        assert!(out.contains("federation/v2.7"));
        assert!(out.contains(
            "\tprogress: [ExerciseProgress!]! @override(from: \"monolith\", label: \"percent(25)\")\n"
        ));
        assert!(out.contains("\tname(style: Int): String! @override(from: \"monolith\")\n"));
        assert!(out.contains("\tprogress: Int! @override(from: \"monolith\")\n"));
    }

    #[test]
    fn a_label_without_override_is_an_error() {
        let err = add_labels(
            SDL,
            &[Label {
                type_name: "User",
                field: "id",
                label: "x",
            }],
        )
        .unwrap_err();
        assert!(err.contains("User.id"), "{err}");
    }

    #[test]
    fn no_labels_no_change() {
        assert_eq!(add_labels(SDL, &[]).unwrap(), SDL);
    }
}
