//! `reviews`: owns `Review` (key `id`); extends `User` (key `id`) and
//! `Product` (key `upc`) with their reviews. `Review.author` provides
//! `username`.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Result, Schema, ID};

use crate::data::{ReviewRecord, REVIEWS};

pub type ReviewsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> ReviewsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

/// In the workload every user has written the first two reviews.
fn reviews_of_any_user() -> Vec<Option<Review>> {
    REVIEWS[..2].iter().map(|r| Some(Review(r))).collect()
}

pub struct Review(&'static ReviewRecord);

#[Object]
impl Review {
    async fn id(&self) -> ID {
        ID(self.0.id.to_owned())
    }
    async fn body(&self) -> Option<&str> {
        Some(self.0.body)
    }
    async fn product(&self) -> Option<Product> {
        Some(Product {
            upc: self.0.upc.to_owned(),
        })
    }
    // The workload's author is always user 1, `urigo`.
    #[graphql(provides = "username")]
    async fn author(&self) -> Option<User> {
        Some(User {
            id: ID("1".to_owned()),
            username: "urigo",
        })
    }
}

/// A user as reviews sees it: `id` and `username` are external.
pub struct User {
    id: ID,
    username: &'static str,
}

#[Object(extends)]
impl User {
    #[graphql(external)]
    async fn id(&self) -> &ID {
        &self.id
    }
    #[graphql(external)]
    async fn username(&self) -> Option<&str> {
        Some(self.username)
    }
    async fn reviews(&self) -> Option<Vec<Option<Review>>> {
        Some(reviews_of_any_user())
    }
}

/// A product as reviews sees it: just its key.
pub struct Product {
    upc: String,
}

#[Object(extends)]
impl Product {
    #[graphql(external)]
    async fn upc(&self) -> &str {
        &self.upc
    }
    async fn reviews(&self) -> Option<Vec<Option<Review>>> {
        Some(
            REVIEWS
                .iter()
                .filter(|r| r.upc == self.upc)
                .map(|r| Some(Review(r)))
                .collect(),
        )
    }
}

pub struct Query;

#[Object(extends)]
impl Query {
    #[graphql(entity)]
    async fn review_entity(&self, id: ID) -> Result<Review> {
        REVIEWS
            .iter()
            .find(|r| r.id == id.as_str())
            .map(Review)
            .ok_or_else(|| format!("no review with id {}", id.as_str()).into())
    }

    // Any id resolves; such a user's `username` is `user` here.
    #[graphql(entity)]
    async fn user_entity(&self, id: ID) -> User {
        User {
            id,
            username: "user",
        }
    }

    #[graphql(entity)]
    async fn product_entity(&self, upc: ID) -> Product {
        Product { upc: upc.0 }
    }
}
