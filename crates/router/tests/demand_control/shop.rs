//! The demand control tests' graph: one subgraph, `shop` (async-graphql),
//! and its supergraph written by hand as Apollo composition writes one with
//! `@cost` and `@listSize` (join v0.5, the cost link importing `@listSize`).
//!
//! The shop holds 3 products, each with 2 reviews, and returns at most that
//! many whatever the slicing arguments ask.

#![allow(dead_code)]

use async_graphql::{EmptySubscription, InputObject, Object, Schema, SimpleObject, Union, ID};

/// The supergraph, with the shop's URL filled in.
pub fn supergraph(shop_url: &str) -> String {
    SUPERGRAPH.replace("{shop}", shop_url)
}

const SUPERGRAPH: &str = r#"schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])
{
  query: Query
  mutation: Mutation
}

directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR

directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION

type Book
  @join__type(graph: SHOP)
  @cost(weight: 3)
{
  title: String
  author: Person
}

input Filter
  @join__type(graph: SHOP)
{
  min: Int @cost(weight: 2)
  max: Int
}

enum Genre
  @join__type(graph: SHOP)
  @cost(weight: 4)
{
  SF @join__enumValue(graph: SHOP)
  DRAMA @join__enumValue(graph: SHOP)
}

input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__DirectiveArguments

scalar join__FieldSet

scalar join__FieldValue

enum join__Graph {
  SHOP @join__graph(name: "shop", url: "{shop}")
}

scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}

type Movie
  @join__type(graph: SHOP)
  @cost(weight: 7)
{
  title: String
  director: Person
  cast: [Person!]! @listSize(assumedSize: 3)
}

type Mutation
  @join__type(graph: SHOP)
{
  addTag(name: String! @cost(weight: 3)): String
}

type Person
  @join__type(graph: SHOP)
{
  name: String
}

type Product
  @join__type(graph: SHOP)
  @cost(weight: 2)
{
  id: ID!
  name: String @cost(weight: 1)
  reviews: [Review!]! @listSize(assumedSize: 4)
}

type ProductPage
  @join__type(graph: SHOP)
{
  items: [Product!]!
  total: Int
}

type Query
  @join__type(graph: SHOP)
{
  products(first: Int = 5): [Product!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
  page(first: Int, last: Int): ProductPage @listSize(slicingArguments: ["first", "last"], sizedFields: ["items"])
  tags: [String!]!
  genres: [Genre!]!
  rating(filter: Filter, ids: [ID!]): Int @cost(weight: 5)
  search: [SearchResult!]! @listSize(assumedSize: 2)
}

type Review
  @join__type(graph: SHOP)
{
  stars: Int
}

union SearchResult
  @join__type(graph: SHOP)
  @join__unionMember(graph: SHOP, member: "Book")
  @join__unionMember(graph: SHOP, member: "Movie")
 = Book | Movie
"#;

#[derive(SimpleObject, Clone)]
struct Review {
    stars: Option<i32>,
}

#[derive(SimpleObject, Clone)]
struct Product {
    id: ID,
    name: Option<String>,
    reviews: Vec<Review>,
}

#[derive(SimpleObject)]
struct ProductPage {
    items: Vec<Product>,
    total: Option<i32>,
}

#[derive(SimpleObject, Clone)]
struct Person {
    name: Option<String>,
}

#[derive(SimpleObject)]
struct Book {
    title: Option<String>,
    author: Option<Person>,
}

#[derive(SimpleObject)]
struct Movie {
    title: Option<String>,
    director: Option<Person>,
    cast: Vec<Person>,
}

#[derive(Union)]
enum SearchResult {
    Book(Book),
    Movie(Movie),
}

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
enum Genre {
    Sf,
    Drama,
}

#[derive(InputObject)]
struct Filter {
    min: Option<i32>,
    max: Option<i32>,
}

/// The shop's products: `n` of its 3.
fn products(n: i32) -> Vec<Product> {
    (1..=n.clamp(0, 3))
        .map(|i| Product {
            id: ID(i.to_string()),
            name: Some(format!("product {i}")),
            reviews: vec![Review { stars: Some(4) }, Review { stars: Some(5) }],
        })
        .collect()
}

fn person(name: &str) -> Person {
    Person {
        name: Some(name.to_owned()),
    }
}

pub struct Query;

#[Object]
impl Query {
    async fn products(&self, first: Option<i32>) -> Vec<Product> {
        products(first.unwrap_or(5))
    }

    async fn page(&self, first: Option<i32>, last: Option<i32>) -> Option<ProductPage> {
        let items = products(first.or(last).unwrap_or(3));
        Some(ProductPage {
            total: Some(items.len() as i32),
            items,
        })
    }

    async fn tags(&self) -> Vec<String> {
        vec!["new".into(), "sale".into()]
    }

    async fn genres(&self) -> Vec<Genre> {
        vec![Genre::Sf]
    }

    async fn rating(&self, filter: Option<Filter>, ids: Option<Vec<ID>>) -> Option<i32> {
        let _ = (filter.map(|f| (f.min, f.max)), ids);
        Some(5)
    }

    async fn search(&self) -> Vec<SearchResult> {
        vec![
            SearchResult::Book(Book {
                title: Some("Dune".into()),
                author: Some(person("Herbert")),
            }),
            SearchResult::Movie(Movie {
                title: Some("Alien".into()),
                director: Some(person("Scott")),
                cast: vec![person("Weaver")],
            }),
        ]
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    async fn add_tag(&self, name: String) -> Option<String> {
        Some(name)
    }
}

/// The `shop` subgraph.
pub fn schema() -> Schema<Query, Mutation, EmptySubscription> {
    Schema::new(Query, Mutation, EmptySubscription)
}
