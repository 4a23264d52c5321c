//! Composition errors (with Apollo's error codes) and the errors of the
//! `compose` command around them (configuration, files, HTTP).

use std::fmt;

/// An Apollo composition error code.
///
/// The names are Apollo Federation's, so that a team can look them up in
/// Apollo's documentation and search results; the `MIGRATE_*` codes are
/// goliath's own (`@migrate`), named in the same style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A subgraph schema does not parse, or references a type it does not define.
    InvalidGraphql,
    /// A subgraph name is empty or `_`.
    InvalidSubgraphName,
    /// A `@link` directive is malformed or imports an unknown element.
    InvalidLinkDirectiveUsage,
    /// A type is defined with different kinds (object, interface, ...) across subgraphs.
    TypeKindMismatch,
    /// A field has incompatible types across subgraphs.
    FieldTypeMismatch,
    /// A field argument has incompatible types across subgraphs.
    FieldArgumentTypeMismatch,
    /// A field argument has different default values across subgraphs.
    FieldArgumentDefaultMismatch,
    /// An input field has different default values across subgraphs.
    InputFieldDefaultMismatch,
    /// A non-shareable field is resolved by several subgraphs.
    InvalidFieldSharing,
    /// A field is `@external` in every subgraph that defines it.
    ExternalMissingOnBase,
    /// An `@external` field is not used by any federation directive.
    ExternalUnused,
    /// The `fields` of a `@key` are invalid (syntax, unknown fields, ...).
    KeyInvalidFields,
    /// A `@key` selects a list, interface or union field.
    KeyFieldsSelectInvalidType,
    /// A `@key` selects a field with arguments.
    KeyFieldsHasArgs,
    /// `@key` on an interface before Federation 2.3.
    KeyUnsupportedOnInterface,
    /// An interface `@key` is missing on one of its implementations.
    InterfaceKeyNotOnImplementation,
    /// The `fields` of a `@requires` are invalid.
    RequiresInvalidFields,
    /// A `@requires` selects a field that is not `@external`.
    RequiresFieldsMissingExternal,
    /// The `fields` of a `@provides` are invalid.
    ProvidesInvalidFields,
    /// A `@provides` selects a field that is not `@external`.
    ProvidesFieldsMissingExternal,
    /// `@provides` on a field whose type is not an object or interface.
    ProvidesOnNonObjectField,
    /// `@override(from:)` names the subgraph it is used in.
    OverrideFromSelfError,
    /// The field an `@override` takes over is itself overridden.
    OverrideSourceHasOverride,
    /// `@override` on a field that also has `@external`, or whose source has `@requires`/`@provides`.
    OverrideCollisionWithAnotherDirective,
    /// An `@override(label:)` that is neither a name nor `percent(x)`.
    OverrideLabelInvalid,
    /// An enum has no value common to all subgraphs (input-only enums are intersected).
    EmptyMergedEnumType,
    /// An enum used as input and output has a value missing in some subgraph.
    EnumValueMismatch,
    /// An input object has no field common to all subgraphs.
    EmptyMergedInputType,
    /// A required argument is missing in some subgraph defining the field.
    RequiredArgumentMissingInSomeSubgraph,
    /// A required input field is missing in some subgraph defining the input type.
    RequiredInputFieldMissingInSomeSubgraph,
    /// An interface field is not implemented by one of the interface's types.
    InterfaceFieldNoImplementation,
    /// `@interfaceObject` is used for a type no subgraph defines as an interface.
    InterfaceObjectUsageError,
    /// No subgraph defines a query root field.
    NoQueries,
    /// An element in the API schema references an `@inaccessible` type.
    ReferencedInaccessible,
    /// A required argument or input field is `@inaccessible`.
    RequiredInaccessible,
    /// Every field (value, member) of a type in the API schema is `@inaccessible`.
    OnlyInaccessibleChildren,
    /// A root operation type is `@inaccessible`.
    QueryRootTypeInaccessible,
    /// `@composeDirective` is misused or the composed directive is inconsistent.
    DirectiveCompositionError,
    /// Some query the supergraph accepts cannot be answered by the subgraphs.
    SatisfiabilityError,
    /// A federation feature goliath does not implement (`@context`, `@fromContext`).
    UnsupportedFeature,
    /// `@authenticated`, `@requiresScopes` or `@policy` on an interface, an
    /// interface field or an `@interfaceObject` (they come from the implementations).
    AuthRequirementsAppliedOnInterface,
    /// A field with `@requires` demands less (`@authenticated`,
    /// `@requiresScopes`, `@policy`) than the fields its selection reaches.
    MissingTransitiveAuthRequirements,
    /// A directive merged into the supergraph (an access directive) on an `@external` field.
    MergedDirectiveApplicationOnExternal,
    /// Subgraphs import the same linked directive (`@cost`, ...) under different names.
    LinkImportNameMismatch,
    /// `@cost` on a field of an interface.
    CostAppliedToInterfaceField,
    /// `@listSize` on a field that is not a list (without `sizedFields`), or a
    /// sized field that is not a list.
    ListSizeAppliedToNonList,
    /// A negative `@listSize(assumedSize:)`.
    ListSizeInvalidAssumedSize,
    /// A `@listSize(slicingArguments:)` entry that is not an Int argument of the field.
    ListSizeInvalidSlicingArgument,
    /// A `@listSize(sizedFields:)` entry that is not a field of the field's type.
    ListSizeInvalidSizedField,
    /// `@migrate(from:)` names no subgraph of the composition.
    MigrateSourceNotFound,
    /// The `@migrate(from:)` subgraph does not define the field, or has it `@external`.
    MigrateSourceMissingField,
    /// `@migrate(from:)` names the subgraph it is used in.
    MigrateSourceIsSelf,
    /// A `@migrate(state:)` that is not `manual`, `side-by-side`, `canary` or `migrated`.
    MigrateInvalidState,
    /// A `@migrate(percent:)` outside 0–100.
    MigrateInvalidPercent,
    /// `@migrate` and `@override` on the same field.
    MigrateWithOverride,
    /// `@migrate` elsewhere than on a field of an object type that the
    /// subgraph can be asked for (an entity with a resolvable key, or a root type).
    MigrateInvalidLocation,
    /// A field migrated by several subgraphs, a migrating field that is
    /// `@external`, or a migration whose subgraphs another `@override` takes
    /// the field from.
    MigrateConflict,
    /// The supergraph composed is not a valid supergraph (a bug in goliath).
    InvalidSupergraph,
}

impl ErrorCode {
    /// The code as Apollo spells it (`FIELD_TYPE_MISMATCH`, ...).
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidGraphql => "INVALID_GRAPHQL",
            InvalidSubgraphName => "INVALID_SUBGRAPH_NAME",
            InvalidLinkDirectiveUsage => "INVALID_LINK_DIRECTIVE_USAGE",
            TypeKindMismatch => "TYPE_KIND_MISMATCH",
            FieldTypeMismatch => "FIELD_TYPE_MISMATCH",
            FieldArgumentTypeMismatch => "FIELD_ARGUMENT_TYPE_MISMATCH",
            FieldArgumentDefaultMismatch => "FIELD_ARGUMENT_DEFAULT_MISMATCH",
            InputFieldDefaultMismatch => "INPUT_FIELD_DEFAULT_MISMATCH",
            InvalidFieldSharing => "INVALID_FIELD_SHARING",
            ExternalMissingOnBase => "EXTERNAL_MISSING_ON_BASE",
            ExternalUnused => "EXTERNAL_UNUSED",
            KeyInvalidFields => "KEY_INVALID_FIELDS",
            KeyFieldsSelectInvalidType => "KEY_FIELDS_SELECT_INVALID_TYPE",
            KeyFieldsHasArgs => "KEY_FIELDS_HAS_ARGS",
            KeyUnsupportedOnInterface => "KEY_UNSUPPORTED_ON_INTERFACE",
            InterfaceKeyNotOnImplementation => "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
            RequiresInvalidFields => "REQUIRES_INVALID_FIELDS",
            RequiresFieldsMissingExternal => "REQUIRES_FIELDS_MISSING_EXTERNAL",
            ProvidesInvalidFields => "PROVIDES_INVALID_FIELDS",
            ProvidesFieldsMissingExternal => "PROVIDES_FIELDS_MISSING_EXTERNAL",
            ProvidesOnNonObjectField => "PROVIDES_ON_NON_OBJECT_FIELD",
            OverrideFromSelfError => "OVERRIDE_FROM_SELF_ERROR",
            OverrideSourceHasOverride => "OVERRIDE_SOURCE_HAS_OVERRIDE",
            OverrideCollisionWithAnotherDirective => "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            OverrideLabelInvalid => "OVERRIDE_LABEL_INVALID",
            EmptyMergedEnumType => "EMPTY_MERGED_ENUM_TYPE",
            EnumValueMismatch => "ENUM_VALUE_MISMATCH",
            EmptyMergedInputType => "EMPTY_MERGED_INPUT_TYPE",
            RequiredArgumentMissingInSomeSubgraph => "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
            RequiredInputFieldMissingInSomeSubgraph => {
                "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH"
            }
            InterfaceFieldNoImplementation => "INTERFACE_FIELD_NO_IMPLEMENTATION",
            InterfaceObjectUsageError => "INTERFACE_OBJECT_USAGE_ERROR",
            NoQueries => "NO_QUERIES",
            ReferencedInaccessible => "REFERENCED_INACCESSIBLE",
            RequiredInaccessible => "REQUIRED_INACCESSIBLE",
            OnlyInaccessibleChildren => "ONLY_INACCESSIBLE_CHILDREN",
            QueryRootTypeInaccessible => "QUERY_ROOT_TYPE_INACCESSIBLE",
            DirectiveCompositionError => "DIRECTIVE_COMPOSITION_ERROR",
            SatisfiabilityError => "SATISFIABILITY_ERROR",
            UnsupportedFeature => "UNSUPPORTED_FEATURE",
            AuthRequirementsAppliedOnInterface => "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
            MissingTransitiveAuthRequirements => "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
            MergedDirectiveApplicationOnExternal => "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
            LinkImportNameMismatch => "LINK_IMPORT_NAME_MISMATCH",
            CostAppliedToInterfaceField => "COST_APPLIED_TO_INTERFACE_FIELD",
            ListSizeAppliedToNonList => "LIST_SIZE_APPLIED_TO_NON_LIST",
            ListSizeInvalidAssumedSize => "LIST_SIZE_INVALID_ASSUMED_SIZE",
            ListSizeInvalidSlicingArgument => "LIST_SIZE_INVALID_SLICING_ARGUMENT",
            ListSizeInvalidSizedField => "LIST_SIZE_INVALID_SIZED_FIELD",
            MigrateSourceNotFound => "MIGRATE_SOURCE_NOT_FOUND",
            MigrateSourceMissingField => "MIGRATE_SOURCE_MISSING_FIELD",
            MigrateSourceIsSelf => "MIGRATE_SOURCE_IS_SELF",
            MigrateInvalidState => "MIGRATE_INVALID_STATE",
            MigrateInvalidPercent => "MIGRATE_INVALID_PERCENT",
            MigrateWithOverride => "MIGRATE_WITH_OVERRIDE",
            MigrateInvalidLocation => "MIGRATE_INVALID_LOCATION",
            MigrateConflict => "MIGRATE_CONFLICT",
            InvalidSupergraph => "INVALID_SUPERGRAPH",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One composition error. Its message names the subgraph(s), type and field
/// involved, as Apollo's messages do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositionError {
    /// Apollo's error code.
    pub code: ErrorCode,
    /// What is wrong, naming subgraphs, types and fields.
    pub message: String,
}

impl CompositionError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CompositionError {
            code,
            message: message.into(),
        }
    }

    /// An error found in one subgraph: the message is prefixed `[subgraph] `.
    pub fn in_subgraph(code: ErrorCode, subgraph: &str, message: impl fmt::Display) -> Self {
        CompositionError {
            code,
            message: format!("[{subgraph}] {message}"),
        }
    }
}

impl fmt::Display for CompositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Why `goliath compose` could not produce a supergraph.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The `supergraph.yaml` configuration is unreadable or invalid.
    #[error("invalid configuration {path}: {message}")]
    Config {
        /// The configuration file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A subgraph's schema could not be obtained (file or HTTP).
    #[error("subgraph \"{subgraph}\": {message}")]
    Schema {
        /// The subgraph's name.
        subgraph: String,
        /// What went wrong.
        message: String,
    },
    /// The subgraphs do not compose.
    #[error("{}", format_errors(.0))]
    Composition(Vec<CompositionError>),
}

fn format_errors(errors: &[CompositionError]) -> String {
    let mut out = format!(
        "composition failed with {} error{}:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str("\n- ");
        out.push_str(&e.to_string());
    }
    out
}

/// Joins names as `"a", "b" and "c"`.
pub(crate) fn and_list<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.as_ref()))
        .collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// `subgraph "a"` or `subgraphs "a" and "b"`.
pub(crate) fn subgraphs_phrase<S: AsRef<str>>(names: &[S]) -> String {
    if names.len() == 1 {
        format!("subgraph {}", and_list(names))
    } else {
        format!("subgraphs {}", and_list(names))
    }
}
