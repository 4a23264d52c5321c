//! `inventory`: stock. Extends `Product` (key `upc`) with `inStock` and
//! `shippingEstimate` (`@requires(fields: "price weight")`).

use async_graphql::{EmptyMutation, EmptySubscription, Object, Result, Schema, ID};

use crate::data::STOCK;

pub type InventorySchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> InventorySchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

/// A product as inventory sees it. `price` and `weight` are external.
///
/// Like the upstream workload's inventory subgraph, the entity resolver takes
/// only the key (`upc`): the `price` and `weight` that the gateway sends in
/// the representation for `@requires` are not read, so they stay unknown here
/// and `shippingEstimate` resolves to `null`. That is what the published
/// benchmark's responses contain; we keep it so every gateway's answer is
/// byte-for-byte the workload's.
pub struct Product {
    upc: &'static str,
    in_stock: bool,
    price: Option<i64>,
    weight: Option<i64>,
}

/// Free shipping above 1000, else half the weight; unknown without a price.
fn shipping_estimate(price: Option<i64>, weight: Option<i64>) -> Option<i64> {
    match (price, weight) {
        (Some(p), _) if p > 1000 => Some(0),
        (Some(_), Some(w)) => Some(w / 2),
        _ => None,
    }
}

#[Object(extends)]
impl Product {
    #[graphql(external)]
    async fn upc(&self) -> &str {
        self.upc
    }
    #[graphql(external)]
    async fn weight(&self) -> Option<i64> {
        self.weight
    }
    #[graphql(external)]
    async fn price(&self) -> Option<i64> {
        self.price
    }
    async fn in_stock(&self) -> Option<bool> {
        Some(self.in_stock)
    }
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> Option<i64> {
        shipping_estimate(self.price, self.weight)
    }
}

pub struct Query;

#[Object(extends)]
impl Query {
    #[graphql(entity)]
    async fn product_entity(&self, upc: ID) -> Result<Product> {
        STOCK
            .iter()
            .find(|(u, _)| *u == upc.as_str())
            .map(|&(upc, in_stock)| Product {
                upc,
                in_stock,
                price: None,
                weight: None,
            })
            .ok_or_else(|| format!("no product with upc {}", upc.as_str()).into())
    }
}
