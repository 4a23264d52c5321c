//! Serving the generated schema: each subgraph, and the oracle, as an
//! `async-graphql` dynamic schema over HTTP on loopback. Resolvers compute
//! values from the dataset ([`crate::data`]); a subgraph answers a field it
//! should not have been asked for (an `@external` field off a `@provides`
//! path, an overridden field) with a wrong value, so a router that asks it
//! gets caught.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::dynamic::{
    Field as DField, FieldFuture, FieldValue, InputValue, Interface, InterfaceField, Object,
    ResolverContext, Schema as DSchema, TypeRef, Union,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::data::{self, Inst, Objects};
use crate::model::{Field, How, Kind, Schema, Ty};

/// What a resolver needs: the schema and which subgraph it serves (`None`:
/// the oracle).
#[derive(Clone)]
struct Side {
    schema: Arc<Schema>,
    subgraph: Option<usize>,
}

fn type_ref(ty: &Ty, name: &str) -> TypeRef {
    match (ty.list, ty.item_non_null, ty.list_non_null) {
        (false, true, _) => TypeRef::named_nn(name),
        (false, false, _) => TypeRef::named(name),
        (true, true, true) => TypeRef::named_nn_list_nn(name),
        (true, true, false) => TypeRef::named_nn_list(name),
        (true, false, true) => TypeRef::named_list_nn(name),
        (true, false, false) => TypeRef::named_list(name),
    }
}

impl Side {
    /// Whether subgraph `s` knows `type_name` as an `@interfaceObject`.
    fn is_interface_object(&self, type_name: &str) -> bool {
        let Some(s) = self.subgraph else { return false };
        self.schema
            .ty(type_name)
            .and_then(|t| t.place(s))
            .is_some_and(|p| p.interface_object)
    }

    /// The type an object of `concrete` type must be marked with where
    /// type `declared` is expected: `None` where `declared` is an object
    /// type here (marking it would hide the object from its resolvers).
    fn object_type(&self, declared: &str, concrete: &str) -> Option<String> {
        if self.is_interface_object(declared) {
            return None;
        }
        match self.schema.ty(declared).map(|t| t.kind) {
            Some(Kind::Object) => None,
            _ => Some(concrete.to_owned()),
        }
    }

    /// The value of scalar field `field` on `inst`.
    fn scalar(&self, inst: &Inst, field: &Field, args: &[(String, i64)]) -> Value {
        let schema = &self.schema;
        if let Some(r) = &field.requires {
            let required = match self.subgraph {
                None => {
                    let def = schema.ty(&inst.ty).and_then(|t| t.field(&r.field));
                    let args: Vec<(String, i64)> = r.arg.iter().cloned().collect();
                    def.map(|d| data::scalar(schema, inst, d, &args))
                        .unwrap_or(Value::Null)
                }
                Some(_) => inst
                    .rep
                    .as_ref()
                    .and_then(|rep| rep.get(&r.field).cloned())
                    .unwrap_or(Value::Null),
            };
            return data::required(schema, inst, field, &required);
        }
        let real = data::scalar(schema, inst, field, args);
        let Some(s) = self.subgraph else { return real };
        match field.home(s) {
            Some(How::External) if !inst.provided.contains(&field.name) => {
                data::poison(&field.ty, &real)
            }
            Some(How::Overridden) => data::poison(&field.ty, &real),
            _ => real,
        }
    }

    /// A child object as a field value.
    fn child<'a>(&self, field: &Field, mut inst: Inst) -> FieldValue<'a> {
        if let Some(p) = &field.provides {
            if p.on.as_deref().is_none_or(|on| on == inst.ty) {
                inst.provided.push(p.field.clone());
            }
        }
        let ty = self.object_type(&field.ty.name, &inst.ty);
        let value = FieldValue::owned_any(inst);
        match ty {
            Some(ty) => value.with_type(ty),
            None => value,
        }
    }

    fn field(&self, field: &Field) -> DField {
        let declared = field.ty.name.clone();
        let side = self.clone();
        let def = field.clone();
        let mut out = DField::new(
            field.name.clone(),
            type_ref(&field.ty, &declared),
            move |rc: ResolverContext| {
                let side = side.clone();
                let def = def.clone();
                FieldFuture::new(async move {
                    let root = Inst::root();
                    let inst = rc.parent_value.downcast_ref::<Inst>().unwrap_or(&root);
                    let args: Vec<(String, i64)> = def
                        .args
                        .iter()
                        .map(|a| {
                            let v = rc
                                .args
                                .get(&a.name)
                                .and_then(|v| v.i64().ok())
                                .unwrap_or(a.default);
                            (a.name.clone(), v)
                        })
                        .collect();
                    if def.ty.is_scalar() {
                        let value = side.scalar(inst, &def, &args);
                        if value.is_null() {
                            return Ok(None);
                        }
                        let value = async_graphql::Value::from_json(value)?;
                        return Ok(Some(FieldValue::value(value)));
                    }
                    Ok(match data::objects(&side.schema, inst, &def, &args) {
                        Objects::Null => None,
                        Objects::One(child) => Some(side.child(&def, child)),
                        Objects::List(items) => {
                            Some(FieldValue::list(items.into_iter().map(|item| match item {
                                Some(child) => side.child(&def, child),
                                None => FieldValue::NULL,
                            })))
                        }
                    })
                })
            },
        );
        for a in &field.args {
            out = out.argument(
                InputValue::new(a.name.clone(), TypeRef::named(TypeRef::INT))
                    .default_value(a.default),
            );
        }
        out
    }

    fn interface_field(field: &Field) -> InterfaceField {
        let mut out = InterfaceField::new(field.name.clone(), type_ref(&field.ty, &field.ty.name));
        for a in &field.args {
            out = out.argument(
                InputValue::new(a.name.clone(), TypeRef::named(TypeRef::INT))
                    .default_value(a.default),
            );
        }
        out
    }

    /// Whether this side has field `field` of a type of kind `kind`.
    fn has(&self, field: &Field, kind: Kind) -> bool {
        match self.subgraph {
            None => true,
            // An `@interfaceObject`'s field is on the interface only.
            Some(_) if field.interface_object && kind == Kind::Object => false,
            Some(s) => field.home(s).is_some(),
        }
    }

    /// The dynamic schema of this side.
    fn build(&self) -> Result<DSchema, String> {
        let schema = &self.schema;
        let mut query = Object::new("Query");
        let mut any_root = false;
        for f in schema.query.iter().filter(|f| self.has(f, Kind::Object)) {
            query = query.field(self.field(f));
            any_root = true;
        }
        if !any_root {
            query = query.field(DField::new(
                "_difftest",
                TypeRef::named(TypeRef::INT),
                |_| FieldFuture::new(async { Ok(None::<FieldValue>) }),
            ));
        }
        let mut builder = DSchema::build("Query", None, None);
        for t in &schema.types {
            let place = match self.subgraph {
                Some(s) => match t.place(s) {
                    Some(p) => Some(p),
                    None => continue,
                },
                None => None,
            };
            let fields = t.fields.iter().filter(|f| self.has(f, t.kind));
            let io = place.is_some_and(|p| p.interface_object);
            match t.kind {
                Kind::Object => {
                    let mut o = Object::new(t.name.clone());
                    for f in fields {
                        o = o.field(self.field(f));
                    }
                    let implements: Vec<String> = match self.subgraph {
                        None => t.related.clone(),
                        Some(s) => schema
                            .types
                            .iter()
                            .filter(|i| {
                                i.kind == Kind::Interface
                                    && i.place(s).is_some_and(|p| {
                                        !p.interface_object && p.related.contains(&t.name)
                                    })
                            })
                            .map(|i| i.name.clone())
                            .collect(),
                    };
                    for i in implements {
                        o = o.implement(i);
                    }
                    if let Some(p) = place {
                        for &k in &p.keys {
                            o = o.key(t.keys[k].join(" "));
                        }
                    }
                    builder = builder.register(o);
                }
                Kind::Interface if io => {
                    let mut o = Object::new(t.name.clone());
                    for f in fields {
                        o = o.field(self.field(f));
                    }
                    o = o.key("id");
                    builder = builder.register(o);
                }
                Kind::Interface => {
                    let mut i = Interface::new(t.name.clone());
                    for f in fields {
                        i = i.field(Side::interface_field(f));
                    }
                    builder = builder.register(i);
                }
                Kind::Union => {
                    let mut u = Union::new(t.name.clone());
                    let members = match place {
                        Some(p) => &p.related,
                        None => &t.related,
                    };
                    for m in members {
                        u = u.possible_type(m.clone());
                    }
                    builder = builder.register(u);
                }
            }
        }
        builder = builder.register(query);
        if self.subgraph.is_some() {
            let side = self.clone();
            builder = builder.enable_federation().entity_resolver(move |rc| {
                let side = side.clone();
                FieldFuture::new(async move {
                    let reps = rc.args.try_get("representations")?.list()?;
                    let mut out = Vec::new();
                    for rep in reps.iter() {
                        let rep = rep.as_value().clone().into_json()?;
                        out.push(side.entity(rep));
                    }
                    Ok(Some(FieldValue::list(out)))
                })
            });
        }
        builder.finish().map_err(|e| e.to_string())
    }

    /// The object a representation names, as this subgraph returns it.
    fn entity<'a>(&self, rep: Value) -> FieldValue<'a> {
        let Value::Object(rep) = rep else {
            return FieldValue::NULL;
        };
        let Some(typename) = rep.get("__typename").and_then(Value::as_str) else {
            return FieldValue::NULL;
        };
        let typename = typename.to_owned();
        let Some((concrete, n)) = data::parse_key(&rep) else {
            return FieldValue::NULL;
        };
        // `_Entity` is a union: always marked, with the type this subgraph
        // has (an `@interfaceObject` is an object type here).
        let ty = if self.is_interface_object(&typename) {
            typename
        } else {
            concrete.clone()
        };
        let mut inst = Inst::new(&concrete, n);
        inst.rep = Some(rep);
        FieldValue::owned_any(inst).with_type(ty)
    }
}

/// A running server; stops when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT/graphql`.
    pub url: String,
    /// Its address.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves subgraph `subgraph` of `schema` (`None`: the oracle).
pub async fn start(schema: Arc<Schema>, subgraph: Option<usize>) -> Result<Server, String> {
    let dynamic = Side { schema, subgraph }.build()?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let task = tokio::spawn(async move {
        // Connections end with the server (aborting this task drops the
        // set, which aborts them): a long run must not run out of files.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            while connections.try_join_next().is_some() {}
            let dynamic = dynamic.clone();
            connections.spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let dynamic = dynamic.clone();
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let answer = execute(&dynamic, &body).await;
                        let response = http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(answer)))
                            .expect("a response");
                        Ok::<_, hyper::Error>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Server {
        url: format!("http://{addr}/graphql"),
        addr,
        task,
    })
}

/// Runs a GraphQL-over-HTTP body against `dynamic`; the JSON answer.
async fn execute(dynamic: &DSchema, body: &[u8]) -> Vec<u8> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return br#"{"errors":[{"message":"the body is not JSON"}]}"#.to_vec();
    };
    let query = body["query"].as_str().unwrap_or_default();
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = body["operationName"].as_str() {
        request = request.operation_name(name);
    }
    if body["variables"].is_object() {
        request = request.variables(async_graphql::Variables::from_json(
            body["variables"].clone(),
        ));
    }
    let response = dynamic.execute(request).await;
    serde_json::to_vec(&response).unwrap_or_default()
}
