//! `accounts`: users. Owns `User` (key `id`) with `name`, `username`, `birthday`.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Result, Schema, ID};

use crate::data::{Account, ACCOUNTS};

pub type AccountsSchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub fn schema() -> AccountsSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

fn find(id: &str) -> Option<&'static Account> {
    ACCOUNTS.iter().find(|a| a.id == id)
}

pub struct User(&'static Account);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_owned())
    }
    async fn name(&self) -> Option<&str> {
        Some(self.0.name)
    }
    async fn username(&self) -> Option<&str> {
        Some(self.0.username)
    }
    async fn birthday(&self) -> Option<i32> {
        Some(self.0.birthday)
    }
}

pub struct Query;

#[Object(extends)]
impl Query {
    // The signed-in user: always the first account.
    async fn me(&self) -> Option<User> {
        Some(User(&ACCOUNTS[0]))
    }

    async fn user(&self, id: ID) -> Option<User> {
        find(&id).map(User)
    }

    async fn users(&self) -> Option<Vec<Option<User>>> {
        Some(ACCOUNTS.iter().map(|a| Some(User(a))).collect())
    }

    #[graphql(entity)]
    async fn user_entity(&self, id: ID) -> Result<User> {
        find(&id)
            .map(User)
            .ok_or_else(|| format!("no user with id {}", id.as_str()).into())
    }
}
