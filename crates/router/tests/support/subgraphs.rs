//! Four small federated subgraphs written with async-graphql, after
//! Apollo's classic demo:
//!
//! - `accounts`: `User @key(id)` with `name` and `username`; `Query.me`,
//!   `Query.user`; `Mutation.updateName`.
//! - `products`: `Product @key(upc)` with `name`, `price`, `weight`;
//!   `Query.topProducts(first)`, `Query.product`.
//! - `inventory`: extends `Product` with `inStock` and `shippingEstimate`
//!   (`@requires(fields: "price weight")`).
//! - `reviews`: `Review @key(id)`, `User.reviews`, `Product.reviews`,
//!   `Review.author @provides(fields: "username")`; `Mutation.createReview`.
//!
//! Subgraph errors inside `_entities` are tested with hand-written stubs
//! (`stub_subgraph`): async-graphql 7 leaves the entity index out of such
//! errors' paths (`["_entities", "reviews", 1, "rating"]`) and drops the
//! failed field's key instead of setting it to null.
//!
//! The router never asks a subgraph for its SDL: the supergraph that
//! composes them is written by hand in `supergraph.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Error, Object, Result, Schema, SimpleObject, ID,
};

// ---------------------------------------------------------------- accounts

#[derive(SimpleObject, Clone)]
#[graphql(name = "User")]
struct Account {
    id: ID,
    name: String,
    username: String,
}

/// The users of one `accounts` instance, by id.
type Accounts = Arc<Mutex<BTreeMap<String, Account>>>;

fn account(ctx: &Context<'_>, id: &str) -> Option<Account> {
    let accounts = ctx.data_unchecked::<Accounts>().lock().unwrap();
    accounts.get(id).cloned()
}

pub struct AccountsQuery;

#[Object(name = "Query")]
impl AccountsQuery {
    async fn me(&self, ctx: &Context<'_>) -> Option<Account> {
        account(ctx, "1")
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> Option<Account> {
        account(ctx, &id)
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Account> {
        account(ctx, &id).ok_or_else(|| Error::new(format!("no user {}", *id)))
    }
}

pub struct AccountsMutation;

#[Object(name = "Mutation")]
impl AccountsMutation {
    async fn update_name(&self, ctx: &Context<'_>, id: ID, name: String) -> Result<Account> {
        let mut accounts = ctx.data_unchecked::<Accounts>().lock().unwrap();
        let user = accounts
            .get_mut(id.as_str())
            .ok_or_else(|| Error::new(format!("no user {}", *id)))?;
        user.name = name;
        Ok(user.clone())
    }
}

pub type AccountsSchema = Schema<AccountsQuery, AccountsMutation, EmptySubscription>;

/// An `accounts` subgraph. Every user's name ends with `name_suffix`, so
/// tests can tell two instances apart.
pub fn accounts(name_suffix: &str) -> AccountsSchema {
    let users = [
        ("1", "Ada Lovelace", "@ada"),
        ("2", "Alan Turing", "@complete"),
    ]
    .into_iter()
    .map(|(id, name, username)| {
        let user = Account {
            id: ID::from(id),
            name: format!("{name}{name_suffix}"),
            username: username.to_string(),
        };
        (id.to_string(), user)
    })
    .collect::<BTreeMap<_, _>>();
    Schema::build(AccountsQuery, AccountsMutation, EmptySubscription)
        .data::<Accounts>(Arc::new(Mutex::new(users)))
        .enable_federation()
        .finish()
}

// ---------------------------------------------------------------- products

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product")]
struct CatalogProduct {
    upc: String,
    name: String,
    price: i32,
    weight: i32,
}

fn catalog() -> Vec<CatalogProduct> {
    [
        ("1", "Table", 899, 100),
        ("2", "Couch", 1299, 1000),
        ("3", "Chair", 54, 50),
    ]
    .into_iter()
    .map(|(upc, name, price, weight)| CatalogProduct {
        upc: upc.to_string(),
        name: name.to_string(),
        price,
        weight,
    })
    .collect()
}

pub struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn top_products(
        &self,
        #[graphql(default = 5)] first: i32,
    ) -> Result<Vec<CatalogProduct>> {
        if first < 0 {
            return Err(Error::new("`first` must not be negative"));
        }
        Ok(catalog().into_iter().take(first as usize).collect())
    }

    async fn product(&self, upc: String) -> Option<CatalogProduct> {
        catalog().into_iter().find(|p| p.upc == upc)
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Result<CatalogProduct> {
        catalog()
            .into_iter()
            .find(|p| p.upc == upc)
            .ok_or_else(|| Error::new(format!("no product {upc}")))
    }
}

pub type ProductsSchema = Schema<ProductsQuery, EmptyMutation, EmptySubscription>;

pub fn products() -> ProductsSchema {
    Schema::build(ProductsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// --------------------------------------------------------------- inventory

/// `Product` as `inventory` sees it: its key, and the external fields
/// that `shippingEstimate` requires (present only when the router sent them).
struct StockedProduct {
    upc: String,
    price: Option<i32>,
    weight: Option<i32>,
}

#[Object(name = "Product", extends)]
impl StockedProduct {
    #[graphql(external)]
    async fn upc(&self) -> &str {
        &self.upc
    }

    #[graphql(external)]
    async fn price(&self) -> Option<i32> {
        self.price
    }

    #[graphql(external)]
    async fn weight(&self) -> Option<i32> {
        self.weight
    }

    async fn in_stock(&self) -> bool {
        self.upc != "2"
    }

    /// Free above a price of 1000, else half the weight. Fails when the
    /// router did not send the required fields.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> Result<i32> {
        match (self.price, self.weight) {
            (Some(price), _) if price > 1000 => Ok(0),
            (Some(_), Some(weight)) => Ok(weight / 2),
            _ => Err(Error::new("shippingEstimate requires price and weight")),
        }
    }
}

pub struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> StockedProduct {
        StockedProduct { upc, price, weight }
    }
}

pub type InventorySchema = Schema<InventoryQuery, EmptyMutation, EmptySubscription>;

pub fn inventory() -> InventorySchema {
    Schema::build(InventoryQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// ----------------------------------------------------------------- reviews

#[derive(Clone)]
struct StoredReview {
    id: String,
    body: String,
    author_id: String,
    product_upc: String,
}

/// The reviews of one `reviews` instance, in creation order.
type Reviews = Arc<Mutex<Vec<StoredReview>>>;

fn reviews_where(ctx: &Context<'_>, keep: impl Fn(&StoredReview) -> bool) -> Vec<StoredReview> {
    let reviews = ctx.data_unchecked::<Reviews>().lock().unwrap();
    reviews.iter().filter(|r| keep(r)).cloned().collect()
}

/// The usernames `reviews` keeps for `@provides(fields: "username")`.
fn username(id: &str) -> Option<String> {
    match id {
        "1" => Some("@ada".into()),
        "2" => Some("@complete".into()),
        _ => None,
    }
}

#[Object(name = "Review")]
impl StoredReview {
    async fn id(&self) -> ID {
        ID::from(self.id.as_str())
    }

    async fn body(&self) -> &str {
        &self.body
    }

    async fn rating(&self) -> Option<i32> {
        match self.id.as_str() {
            "r1" => Some(5),
            "r2" => Some(2),
            "r3" => Some(3),
            _ => None,
        }
    }

    #[graphql(provides = "username")]
    async fn author(&self) -> Reviewer {
        Reviewer {
            id: self.author_id.clone(),
        }
    }

    async fn product(&self) -> ReviewedProduct {
        ReviewedProduct {
            upc: self.product_upc.clone(),
        }
    }
}

/// `User` as `reviews` sees it.
struct Reviewer {
    id: String,
}

#[Object(name = "User")]
impl Reviewer {
    async fn id(&self) -> ID {
        ID::from(self.id.as_str())
    }

    #[graphql(external)]
    async fn username(&self) -> Option<String> {
        username(&self.id)
    }

    async fn reviews(&self, ctx: &Context<'_>) -> Vec<StoredReview> {
        reviews_where(ctx, |r| r.author_id == self.id)
    }
}

/// `Product` as `reviews` sees it.
struct ReviewedProduct {
    upc: String,
}

#[Object(name = "Product")]
impl ReviewedProduct {
    async fn upc(&self) -> &str {
        &self.upc
    }

    async fn reviews(&self, ctx: &Context<'_>) -> Vec<StoredReview> {
        reviews_where(ctx, |r| r.product_upc == self.upc)
    }
}

pub struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Reviewer {
        Reviewer { id: id.to_string() }
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> ReviewedProduct {
        ReviewedProduct { upc }
    }

    #[graphql(entity)]
    async fn find_review_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<StoredReview> {
        reviews_where(ctx, |r| r.id == *id)
            .pop()
            .ok_or_else(|| Error::new(format!("no review {}", *id)))
    }
}

pub struct ReviewsMutation;

#[Object(name = "Mutation")]
impl ReviewsMutation {
    /// Adds a review by user 1 (`me`).
    async fn create_review(&self, ctx: &Context<'_>, upc: String, body: String) -> StoredReview {
        let mut reviews = ctx.data_unchecked::<Reviews>().lock().unwrap();
        let review = StoredReview {
            id: format!("r{}", reviews.len() + 1),
            body,
            author_id: "1".into(),
            product_upc: upc,
        };
        reviews.push(review.clone());
        review
    }
}

pub type ReviewsSchema = Schema<ReviewsQuery, ReviewsMutation, EmptySubscription>;

pub fn reviews() -> ReviewsSchema {
    let reviews = [
        ("r1", "Love it!", "1", "1"),
        ("r2", "Too expensive.", "2", "1"),
        ("r3", "Could be better.", "2", "2"),
    ]
    .into_iter()
    .map(|(id, body, author, upc)| StoredReview {
        id: id.into(),
        body: body.into(),
        author_id: author.into(),
        product_upc: upc.into(),
    })
    .collect::<Vec<_>>();
    Schema::build(ReviewsQuery, ReviewsMutation, EmptySubscription)
        .data::<Reviews>(Arc::new(Mutex::new(reviews)))
        .enable_federation()
        .finish()
}
