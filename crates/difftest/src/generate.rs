//! The schema generator: a random schema, split across 2 to 5 subgraphs the
//! way Federation allows.
//!
//! The steps, in order:
//! 1. types: entities (one key, a composite key, or two keys), value types,
//!    unions, interfaces (value interfaces whose implementations are spread
//!    over subgraphs, and an entity interface that other subgraphs extend
//!    with `@interfaceObject`), each with scalar fields given to subgraphs
//!    (some `@shareable` in two);
//! 2. relationship fields (entity to entity, union, interface or value type)
//!    and root fields, each resolved by one subgraph (root fields sometimes
//!    by two); a field of abstract type holds only the members its
//!    subgraph knows;
//! 3. `@override`, `@requires` (with and without arguments) and `@provides`
//!    (also on fields of abstract type) on some fields;
//! 4. placement: which subgraph defines which type and how (keys it
//!    declares, `resolvable: false` for one that only refers to an entity,
//!    the members of a union or interface it knows), then the homes of key
//!    fields, value types' fields and interface fields.

use std::collections::BTreeSet;

use crate::model::{
    Arg, Field, Home, How, Kind, Place, Provides, Requires, Schema, Ty, TypeDef, SCALARS,
};
use crate::rng::Rng;

/// Generates the schema for `seed`.
pub fn generate(seed: u64) -> Schema {
    let mut rng = Rng::new(seed);
    let subgraphs = rng.range(2, 5);
    let instances = rng.range(2, 4) as u32;
    let mut gen = Gen {
        rng,
        schema: Schema {
            seed,
            subgraphs,
            instances,
            types: Vec::new(),
            query: Vec::new(),
        },
        counter: 0,
        refs: Vec::new(),
        homes: Vec::new(),
    };
    gen.types();
    gen.relationships();
    gen.root_fields();
    gen.overrides();
    gen.requires();
    gen.provides();
    gen.place();
    gen.schema
}

/// A subgraph's use of a type: it resolves a field returning it.
struct Ref {
    subgraph: usize,
    ty: String,
    /// For an abstract type: the members the field's values have.
    related: Vec<String>,
}

struct Gen {
    rng: Rng,
    schema: Schema,
    counter: usize,
    refs: Vec<Ref>,
    /// The home subgraph of each entity (all keys, resolvable).
    homes: Vec<(String, usize)>,
}

fn home(subgraph: usize, how: How) -> Home {
    Home { subgraph, how }
}

fn scalar_ty(name: &str, list: bool, non_null: bool) -> Ty {
    Ty {
        name: name.to_owned(),
        list,
        item_non_null: non_null,
        list_non_null: list && non_null,
    }
}

fn field(name: String, ty: Ty, homes: Vec<Home>) -> Field {
    Field {
        name,
        args: Vec::new(),
        ty,
        homes,
        runtime: Vec::new(),
        requires: None,
        provides: None,
        interface_object: false,
    }
}

impl Gen {
    fn name(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn subgraph(&mut self) -> usize {
        self.rng.below(self.schema.subgraphs)
    }

    fn other_subgraph(&mut self, not: usize) -> usize {
        let s = self.rng.below(self.schema.subgraphs - 1);
        if s >= not {
            s + 1
        } else {
            s
        }
    }

    /// A random scalar field resolved by `homes`.
    fn scalar_field(&mut self, homes: Vec<Home>, with_args: bool) -> Field {
        let name = self.name("x");
        let scalar = *self.rng.pick(&SCALARS);
        let list = self.rng.chance(15);
        let non_null = self.rng.chance(35);
        let mut f = field(name, scalar_ty(scalar, list, non_null), homes);
        if with_args && self.rng.chance(25) {
            f.args.push(Arg {
                name: "a".into(),
                default: self.rng.below(5) as i64,
            });
        }
        f
    }

    /// Homes for an entity field: one subgraph, sometimes two sharing it.
    fn entity_field_homes(&mut self, entity_home: usize) -> Vec<Home> {
        let first = if self.rng.chance(50) {
            entity_home
        } else {
            self.subgraph()
        };
        if self.schema.subgraphs > 1 && self.rng.chance(20) {
            let second = self.other_subgraph(first);
            vec![home(first, How::Shared), home(second, How::Shared)]
        } else {
            vec![home(first, How::Own)]
        }
    }

    fn entity(&mut self, name: String, keys: Vec<Vec<String>>, h: usize) -> TypeDef {
        let mut fields = Vec::new();
        for key in &keys {
            for k in key {
                if fields.iter().any(|f: &Field| &f.name == k) {
                    continue;
                }
                let scalar = match k.as_str() {
                    "id" => "ID",
                    "k2" => "Int",
                    _ => "String",
                };
                fields.push(field(k.clone(), scalar_ty(scalar, false, true), Vec::new()));
            }
        }
        for _ in 0..self.rng.range(1, 3) {
            let homes = self.entity_field_homes(h);
            let f = self.scalar_field(homes, true);
            fields.push(f);
        }
        self.homes.push((name.clone(), h));
        TypeDef {
            name,
            kind: Kind::Object,
            fields,
            keys,
            related: Vec::new(),
            places: Vec::new(),
        }
    }

    fn value_type(&mut self, name: String) -> TypeDef {
        let mut fields = Vec::new();
        for _ in 0..self.rng.range(1, 3) {
            let f = self.scalar_field(Vec::new(), false);
            fields.push(f);
        }
        TypeDef {
            name,
            kind: Kind::Object,
            fields,
            keys: Vec::new(),
            related: Vec::new(),
            places: Vec::new(),
        }
    }

    /// Step 1: the types and their scalar fields.
    fn types(&mut self) {
        for i in 0..self.rng.range(2, 4) {
            let keys = match self.rng.below(10) {
                0..=5 => vec![vec!["id".to_owned()]],
                6 | 7 => vec![vec!["k1".to_owned(), "k2".to_owned()]],
                _ => vec![vec!["id".to_owned()], vec!["upc".to_owned()]],
            };
            let h = self.subgraph();
            let e = self.entity(format!("E{i}"), keys, h);
            self.schema.types.push(e);
        }
        for i in 0..self.rng.range(0, 2) {
            let v = self.value_type(format!("V{i}"));
            self.schema.types.push(v);
        }
        // Unions of existing objects: the members are settled in placement.
        let objects: Vec<String> = self.schema.types.iter().map(|t| t.name.clone()).collect();
        for i in 0..self.rng.range(0, 2) {
            let mut members = self.rng.subset(&objects);
            if members.len() < 2 {
                members = objects.iter().take(2).cloned().collect();
            }
            self.schema.types.push(TypeDef {
                name: format!("U{i}"),
                kind: Kind::Union,
                fields: Vec::new(),
                keys: Vec::new(),
                related: members,
                places: Vec::new(),
            });
        }
        // A value interface whose implementations are entities or value
        // types; which subgraph knows which implementation is settled in
        // placement.
        if self.rng.chance(60) {
            let name = "I0".to_owned();
            let mut fields = Vec::new();
            for _ in 0..self.rng.range(1, 2) {
                let f = self.scalar_field(Vec::new(), false);
                fields.push(f);
            }
            let mut implementations = Vec::new();
            for suffix in ["A", "B", "C"].iter().take(self.rng.range(2, 3)) {
                let imp_name = format!("{name}{suffix}");
                let mut imp = if self.rng.chance(50) {
                    let h = self.subgraph();
                    self.entity(imp_name.clone(), vec![vec!["id".to_owned()]], h)
                } else {
                    self.value_type(imp_name.clone())
                };
                for f in &fields {
                    let mut copy = f.clone();
                    copy.homes.clear();
                    imp.fields.push(copy);
                }
                implementations.push(imp_name);
                self.schema.types.push(imp);
            }
            self.schema.types.push(TypeDef {
                name,
                kind: Kind::Interface,
                fields,
                keys: Vec::new(),
                related: implementations,
                places: Vec::new(),
            });
        }
        if self.rng.chance(50) {
            self.entity_interface();
        }
    }

    /// An entity interface `J0` with its implementations in subgraph `h`,
    /// extended by another subgraph with `@interfaceObject`.
    fn entity_interface(&mut self) {
        let h = self.subgraph();
        let name = "J0".to_owned();
        let id = field("id".into(), scalar_ty("ID", false, true), Vec::new());
        let shared = self.scalar_field(vec![home(h, How::Own)], false);
        let mut fields = vec![id, shared];
        let mut implementations = Vec::new();
        for suffix in ["A", "B"] {
            let imp_name = format!("{name}{suffix}");
            let mut imp = self.entity(imp_name.clone(), vec![vec!["id".to_owned()]], h);
            imp.fields.push(fields[1].clone());
            implementations.push(imp_name);
            self.schema.types.push(imp);
        }
        let mut places = vec![Place {
            subgraph: h,
            keys: vec![0],
            resolvable: true,
            interface_object: false,
            related: implementations.clone(),
        }];
        if self.schema.subgraphs > 1 && self.rng.chance(75) {
            let io = self.other_subgraph(h);
            let mut extra = self.scalar_field(vec![home(io, How::Own)], true);
            extra.interface_object = true;
            for imp in &implementations {
                let t = self.ty_mut(imp);
                t.fields.push(extra.clone());
            }
            fields.push(extra);
            places.push(Place {
                subgraph: io,
                keys: vec![0],
                resolvable: true,
                interface_object: true,
                related: Vec::new(),
            });
        }
        self.schema.types.push(TypeDef {
            name,
            kind: Kind::Interface,
            fields,
            keys: vec![vec!["id".to_owned()]],
            related: implementations,
            places,
        });
    }

    fn ty_mut(&mut self, name: &str) -> &mut TypeDef {
        self.schema
            .types
            .iter_mut()
            .find(|t| t.name == name)
            .expect("a generated type")
    }

    /// A field returning one of the schema's types, resolved by `s`; `None`
    /// when there is nothing `s` may return.
    fn object_field(&mut self, s: usize, allow_value: bool) -> Option<Field> {
        let candidates: Vec<String> = self
            .schema
            .types
            .iter()
            .filter(|t| match t.kind {
                Kind::Object => allow_value || t.is_entity(),
                Kind::Union => true,
                // The entity interface only from subgraphs that know it.
                Kind::Interface => t.places.is_empty() || t.place(s).is_some(),
            })
            .map(|t| t.name.clone())
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let target = self.rng.pick(&candidates).clone();
        let t = self.schema.ty(&target).expect("a candidate").clone();
        let abstract_members = match t.kind {
            Kind::Object => None,
            Kind::Union => Some(t.related.clone()),
            Kind::Interface => match t.place(s) {
                // The entity interface: all implementations at its home; an
                // `@interfaceObject` returns any of them.
                Some(p) if !p.interface_object => Some(p.related.clone()),
                Some(_) => Some(t.related.clone()),
                None => Some(t.related.clone()),
            },
        };
        let list = self.rng.chance(40);
        let non_null = self.rng.chance(30);
        let name = self.name("o");
        let mut f = field(
            name,
            scalar_ty(&target, list, non_null),
            vec![home(s, How::Own)],
        );
        if self.rng.chance(20) {
            f.args.push(Arg {
                name: "a".into(),
                default: self.rng.below(5) as i64,
            });
        }
        let related = match abstract_members {
            Some(members) => {
                let is_io = t.place(s).is_some_and(|p| p.interface_object);
                let runtime = if is_io {
                    members
                } else {
                    self.rng.subset(&members)
                };
                f.runtime = runtime.clone();
                runtime
            }
            None => Vec::new(),
        };
        self.refs.push(Ref {
            subgraph: s,
            ty: target,
            related,
        });
        Some(f)
    }

    /// Step 2a: fields from entities and value types to other types.
    fn relationships(&mut self) {
        let owners: Vec<(String, usize)> = self.homes.clone();
        for (entity, h) in owners {
            for _ in 0..self.rng.range(0, 2) {
                let s = if self.rng.chance(50) {
                    h
                } else {
                    self.subgraph()
                };
                if let Some(f) = self.object_field(s, true) {
                    self.ty_mut(&entity).fields.push(f);
                }
            }
        }
        // A value type may refer to an entity (resolved wherever the value
        // type is: the field's homes are settled in placement).
        let values: Vec<String> = self
            .schema
            .types
            .iter()
            .filter(|t| t.kind == Kind::Object && !t.is_entity())
            .map(|t| t.name.clone())
            .collect();
        let entities: Vec<String> = self.homes.iter().map(|(e, _)| e.clone()).collect();
        let unions: Vec<String> = self
            .schema
            .types
            .iter()
            .filter(|t| t.kind == Kind::Union)
            .map(|t| t.name.clone())
            .collect();
        for v in values {
            if self.rng.chance(30) {
                let target = self.rng.pick(&entities).clone();
                let name = self.name("o");
                let list = self.rng.chance(30);
                let f = field(name, scalar_ty(&target, list, false), Vec::new());
                self.ty_mut(&v).fields.push(f);
            }
            // A shared value type holding a union: every subgraph that
            // returns the value type resolves the field, each knowing the
            // union's members only in part (the field's values hold members
            // they all know).
            if !unions.is_empty() && self.rng.chance(40) {
                let u = self.rng.pick(&unions).clone();
                let members = self.schema.ty(&u).expect("a union").related.clone();
                let name = self.name("o");
                let list = self.rng.chance(40);
                let mut f = field(name, scalar_ty(&u, list, false), Vec::new());
                f.runtime = self.rng.subset(&members);
                self.ty_mut(&v).fields.push(f);
            }
        }
    }

    /// Step 2b: root fields.
    fn root_fields(&mut self) {
        for _ in 0..self.rng.range(2, 4) {
            let s = self.subgraph();
            if self.rng.chance(15) {
                let f = self.scalar_field(vec![home(s, How::Own)], true);
                self.schema.query.push(f);
                continue;
            }
            let Some(mut f) = self.object_field(s, true) else {
                continue;
            };
            let target = self.schema.ty(&f.ty.name).expect("a type");
            if target.kind == Kind::Object && self.rng.chance(20) {
                // Shared by a second subgraph.
                let second = self.other_subgraph(s);
                f.homes = vec![home(s, How::Shared), home(second, How::Shared)];
                self.refs.push(Ref {
                    subgraph: second,
                    ty: f.ty.name.clone(),
                    related: Vec::new(),
                });
            }
            self.schema.query.push(f);
        }
        if self.schema.query.is_empty() {
            let s = self.subgraph();
            let f = self.scalar_field(vec![home(s, How::Own)], true);
            self.schema.query.push(f);
        }
    }

    /// Scalar fields of entity objects resolved by one subgraph only and
    /// used by nothing else: (type index, field index, subgraph).
    fn plain_entity_scalars(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (ti, t) in self.schema.types.iter().enumerate() {
            if t.kind != Kind::Object || !t.is_entity() {
                continue;
            }
            for (fi, f) in t.fields.iter().enumerate() {
                if !f.ty.is_scalar()
                    || f.interface_object
                    || f.requires.is_some()
                    || f.homes.len() != 1
                {
                    continue;
                }
                if f.homes[0].how == How::Own {
                    out.push((ti, fi, f.homes[0].subgraph));
                }
            }
        }
        out
    }

    /// Step 3a: `@override` on some scalar fields.
    fn overrides(&mut self) {
        for _ in 0..self.rng.range(0, 2) {
            let candidates = self.plain_entity_scalars();
            if candidates.is_empty() {
                return;
            }
            let (ti, fi, from) = *self.rng.pick(&candidates);
            let to = self.other_subgraph(from);
            self.schema.types[ti].fields[fi].homes = vec![
                home(to, How::OverrideFrom(from)),
                home(from, How::Overridden),
            ];
        }
    }

    /// Step 3b: `@requires` of a scalar field owned elsewhere, with the
    /// field's argument when it has one (two requirements may name one
    /// field with different arguments).
    fn requires(&mut self) {
        for _ in 0..self.rng.range(0, 3) {
            let candidates = self.plain_entity_scalars();
            if candidates.is_empty() {
                return;
            }
            let (ti, fi, owner) = *self.rng.pick(&candidates);
            let b = self.other_subgraph(owner);
            let required = self.schema.types[ti].fields[fi].clone();
            let arg = required
                .args
                .first()
                .map(|a| (a.name.clone(), self.rng.below(5) as i64));
            let name = self.name("r");
            let mut r = field(
                name,
                scalar_ty("String", false, false),
                vec![home(b, How::Own)],
            );
            r.requires = Some(Requires {
                field: required.name.clone(),
                arg,
            });
            let t = &mut self.schema.types[ti];
            t.fields.push(r);
            let required = &mut t.fields[fi];
            if required.home(b).is_none() {
                required.homes.push(home(b, How::External));
            }
        }
    }

    /// Step 3c: `@provides` on some fields returning entities (or abstract
    /// types with an entity member).
    fn provides(&mut self) {
        let mut sites = Vec::new();
        for (ti, t) in self.schema.types.iter().enumerate() {
            for (fi, f) in t.fields.iter().enumerate() {
                if !f.ty.is_scalar() && f.homes.len() == 1 && f.homes[0].how == How::Own {
                    sites.push((Some(ti), fi));
                }
            }
        }
        for (fi, f) in self.schema.query.iter().enumerate() {
            if !f.ty.is_scalar() && f.homes.len() == 1 {
                sites.push((None, fi));
            }
        }
        for _ in 0..self.rng.range(0, 2) {
            if sites.is_empty() {
                return;
            }
            let (ti, fi) = *self.rng.pick(&sites);
            let f = match ti {
                Some(ti) => &self.schema.types[ti].fields[fi],
                None => &self.schema.query[fi],
            };
            let s = f.homes[0].subgraph;
            let target = self.schema.ty(&f.ty.name).expect("a type");
            let (on, member) = match target.kind {
                Kind::Object => (None, target.name.clone()),
                _ => {
                    let entity_members: Vec<String> = f
                        .runtime
                        .iter()
                        .filter(|m| {
                            self.schema.ty(m).is_some_and(|t| t.is_entity())
                                && target.place(s).is_none_or(|p| !p.interface_object)
                        })
                        .cloned()
                        .collect();
                    if entity_members.is_empty() {
                        continue;
                    }
                    let m = self.rng.pick(&entity_members).clone();
                    (Some(m.clone()), m)
                }
            };
            let Some(mi) = self.schema.types.iter().position(|t| t.name == member) else {
                continue;
            };
            let provided: Vec<usize> = self.schema.types[mi]
                .fields
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.ty.is_scalar()
                        && p.args.is_empty()
                        && !p.interface_object
                        && p.requires.is_none()
                        && p.homes.len() == 1
                        && p.homes[0].how == How::Own
                        && p.homes[0].subgraph != s
                })
                .map(|(i, _)| i)
                .collect();
            if provided.is_empty() || !self.schema.ty(&member).is_some_and(|t| t.is_entity()) {
                continue;
            }
            let pi = *self.rng.pick(&provided);
            let p = &mut self.schema.types[mi].fields[pi];
            p.homes.push(home(s, How::External));
            let provides = Provides {
                on,
                field: p.name.clone(),
            };
            let f = match ti {
                Some(ti) => &mut self.schema.types[ti].fields[fi],
                None => &mut self.schema.query[fi],
            };
            f.provides = Some(provides);
            sites.retain(|site| *site != (ti, fi));
        }
    }

    /// Step 4: which subgraph defines which type, and the homes that follow.
    fn place(&mut self) {
        // Entities: their home, and every subgraph resolving one of their
        // fields.
        for (entity, h) in self.homes.clone() {
            let t = self.schema.ty(&entity).expect("an entity");
            let all: Vec<usize> = (0..t.keys.len()).collect();
            let mut users = BTreeSet::new();
            for f in &t.fields {
                if f.interface_object {
                    continue;
                }
                for hm in &f.homes {
                    users.insert(hm.subgraph);
                }
            }
            users.remove(&h);
            let mut places = vec![Place {
                subgraph: h,
                keys: all.clone(),
                resolvable: true,
                interface_object: false,
                related: Vec::new(),
            }];
            for s in users {
                let keys = self.rng.subset(&all);
                places.push(Place {
                    subgraph: s,
                    keys,
                    resolvable: true,
                    interface_object: false,
                    related: Vec::new(),
                });
            }
            self.ty_mut(&entity).places = places;
        }
        // Referenced types, closed over what they refer to.
        let mut work: Vec<Ref> = std::mem::take(&mut self.refs);
        while let Some(r) = work.pop() {
            self.place_ref(r, &mut work);
        }
        self.finish();
    }

    fn place_ref(&mut self, r: Ref, work: &mut Vec<Ref>) {
        let resolvable_stub = self.rng.chance(50);
        let extra_members = self.rng.chance(30);
        let stub_key = self.rng.below(4);
        let t = self.ty_mut(&r.ty);
        let kind = t.kind;
        let entity = t.is_entity();
        let key_count = t.keys.len();
        let fields: Vec<Field> = t.fields.clone();
        // The members this place knows beyond the field's (new places only).
        let mut extras: Vec<String> = Vec::new();
        if let Some(p) = t.places.iter_mut().find(|p| p.subgraph == r.subgraph) {
            // Known already: a union or interface may learn more members.
            if p.interface_object {
                return;
            }
            let before = p.related.len();
            for m in &r.related {
                if !p.related.contains(m) {
                    p.related.push(m.clone());
                }
            }
            if p.related.len() == before {
                return;
            }
        } else {
            let mut related = r.related.clone();
            if kind == Kind::Union {
                // A subgraph may know members its fields never return.
                for m in t.related.clone() {
                    if !related.contains(&m) && extra_members {
                        related.push(m);
                    }
                }
            }
            extras.clone_from(&related);
            t.places.push(Place {
                subgraph: r.subgraph,
                keys: if entity {
                    vec![stub_key % key_count]
                } else {
                    Vec::new()
                },
                resolvable: !entity || resolvable_stub,
                interface_object: false,
                related,
            });
            if kind == Kind::Object && !entity {
                // A value type: all of its fields, shared; the entities they
                // return must be known here too.
                for f in fields.iter().filter(|f| !f.ty.is_scalar()) {
                    work.push(Ref {
                        subgraph: r.subgraph,
                        ty: f.ty.name.clone(),
                        related: f.runtime.clone(),
                    });
                }
            }
        }
        if kind != Kind::Object {
            for m in r.related.into_iter().chain(extras) {
                work.push(Ref {
                    subgraph: r.subgraph,
                    ty: m,
                    related: Vec::new(),
                });
            }
        }
    }

    /// Homes that follow from placement; drops what nothing defines.
    fn finish(&mut self) {
        let types = self.schema.types.clone();
        for t in &mut self.schema.types {
            let places = t.places.clone();
            match (t.kind, t.is_entity()) {
                (Kind::Object, true) | (Kind::Interface, true) => {
                    for p in &places {
                        for &k in &p.keys {
                            for key_field in t.keys[k].clone() {
                                let f = t
                                    .fields
                                    .iter_mut()
                                    .find(|f| f.name == key_field)
                                    .expect("a key field");
                                if f.home(p.subgraph).is_none() {
                                    f.homes.push(home(p.subgraph, How::Key));
                                }
                            }
                        }
                    }
                }
                (Kind::Object, false) => {
                    for f in &mut t.fields {
                        f.homes = places
                            .iter()
                            .map(|p| home(p.subgraph, How::Shared))
                            .collect();
                    }
                }
                (Kind::Interface, false) => {
                    for f in &mut t.fields {
                        f.homes = places
                            .iter()
                            .map(|p| home(p.subgraph, How::Shared))
                            .collect();
                    }
                }
                (Kind::Union, _) => {}
            }
        }
        // Interface fields on the implementations each subgraph knows.
        for i in types
            .iter()
            .filter(|t| t.kind == Kind::Interface && !t.is_entity())
        {
            let interface_fields: Vec<String> = i.fields.iter().map(|f| f.name.clone()).collect();
            for p in &i.places {
                for imp in &p.related {
                    let t = self.ty_mut(imp);
                    for f in t
                        .fields
                        .iter_mut()
                        .filter(|f| interface_fields.contains(&f.name))
                    {
                        if f.home(p.subgraph).is_none() {
                            f.homes.push(home(p.subgraph, How::Shared));
                        }
                    }
                }
            }
        }
        // A subgraph that resolves more than keys of an entity can be
        // entered by them.
        for t in &mut self.schema.types {
            if !t.is_entity() {
                continue;
            }
            let fields = t.fields.clone();
            for p in &mut t.places {
                let s = p.subgraph;
                if fields
                    .iter()
                    .any(|f| matches!(f.home(s), Some(h) if *h != How::Key))
                {
                    p.resolvable = true;
                }
            }
        }
        // Related lists from the places; drop what no subgraph defines.
        self.schema.types.retain(|t| !t.places.is_empty());
        let names: Vec<String> = self.schema.types.iter().map(|t| t.name.clone()).collect();
        for t in &mut self.schema.types {
            if t.kind != Kind::Object {
                let mut related: Vec<String> = Vec::new();
                for p in &t.places {
                    for m in &p.related {
                        if !related.contains(m) && names.contains(m) {
                            related.push(m.clone());
                        }
                    }
                }
                if t.is_entity() {
                    related = t.related.clone();
                }
                t.related = related;
            }
            t.fields.retain(|f| !f.homes.is_empty());
        }
        let abstracts: Vec<(String, Vec<String>)> = self
            .schema
            .types
            .iter()
            .filter(|t| t.kind == Kind::Interface)
            .map(|t| (t.name.clone(), t.related.clone()))
            .collect();
        for t in &mut self.schema.types {
            if t.kind == Kind::Object {
                t.related = abstracts
                    .iter()
                    .filter(|(_, imps)| imps.contains(&t.name))
                    .map(|(i, _)| i.clone())
                    .collect();
            }
        }
        // Interfaces whose implementations all went: gone too, with what
        // returns them.
        self.schema
            .types
            .retain(|t| t.kind == Kind::Object || !t.related.is_empty());
        let names: Vec<String> = self.schema.types.iter().map(|t| t.name.clone()).collect();
        let keep = |f: &Field| f.ty.is_scalar() || names.contains(&f.ty.name);
        for t in &mut self.schema.types {
            t.fields.retain(keep);
        }
        self.schema.query.retain(keep);
    }
}
