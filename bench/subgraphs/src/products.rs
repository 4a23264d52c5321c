//! `products`: the catalogue. Owns `Product` (key `upc`) with `name`,
//! `price`, `weight`, and `Query.topProducts`.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Result, Schema, ID};

use crate::data::{CatalogItem, CATALOG};

pub type ProductsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> ProductsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

pub struct Product(&'static CatalogItem);

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        self.0.upc
    }
    async fn name(&self) -> Option<&str> {
        Some(self.0.name)
    }
    async fn price(&self) -> Option<i64> {
        Some(self.0.price)
    }
    async fn weight(&self) -> Option<i64> {
        Some(self.0.weight)
    }
}

pub struct Query;

#[Object(extends)]
impl Query {
    // The first `first` products of the catalogue.
    async fn top_products(
        &self,
        #[graphql(default = 5)] first: Option<i32>,
    ) -> Option<Vec<Option<Product>>> {
        let n = usize::try_from(first.unwrap_or(5)).unwrap_or(0);
        Some(CATALOG.iter().take(n).map(|p| Some(Product(p))).collect())
    }

    #[graphql(entity)]
    async fn product_entity(&self, upc: ID) -> Result<Product> {
        CATALOG
            .iter()
            .find(|p| p.upc == upc.as_str())
            .map(Product)
            .ok_or_else(|| format!("no product with upc {}", upc.as_str()).into())
    }
}
