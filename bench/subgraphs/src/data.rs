//! The workload's fixed data set (the same records as The Guild's
//! graphql-gateways-benchmark subgraphs), as static tables.

/// An account (subgraph `accounts`).
pub struct Account {
    pub id: &'static str,
    pub name: &'static str,
    pub username: &'static str,
    pub birthday: i32,
}

/// Every account has this birthday in the workload.
const BIRTHDAY: i32 = 1_234_567_890;

#[rustfmt::skip]
pub static ACCOUNTS: [Account; 6] = [
    Account { id: "1", name: "Uri Goldshtein", username: "urigo", birthday: BIRTHDAY },
    Account { id: "2", name: "Dotan Simha", username: "dotansimha", birthday: BIRTHDAY },
    Account { id: "3", name: "Kamil Kisiela", username: "kamilkisiela", birthday: BIRTHDAY },
    Account { id: "4", name: "Arda Tanrikulu", username: "ardatan", birthday: BIRTHDAY },
    Account { id: "5", name: "Gil Gardosh", username: "gilgardosh", birthday: BIRTHDAY },
    Account { id: "6", name: "Laurin Quast", username: "laurin", birthday: BIRTHDAY },
];

/// A catalogue entry (subgraph `products`).
pub struct CatalogItem {
    pub upc: &'static str,
    pub name: &'static str,
    pub price: i64,
    pub weight: i64,
}

#[rustfmt::skip]
pub static CATALOG: [CatalogItem; 9] = [
    CatalogItem { upc: "1", name: "Table", price: 899, weight: 100 },
    CatalogItem { upc: "2", name: "Couch", price: 1299, weight: 1000 },
    CatalogItem { upc: "3", name: "Glass", price: 15, weight: 20 },
    CatalogItem { upc: "4", name: "Chair", price: 499, weight: 100 },
    CatalogItem { upc: "5", name: "TV", price: 1299, weight: 1000 },
    CatalogItem { upc: "6", name: "Lamp", price: 6999, weight: 300 },
    CatalogItem { upc: "7", name: "Grill", price: 3999, weight: 2000 },
    CatalogItem { upc: "8", name: "Fridge", price: 100_000, weight: 6000 },
    CatalogItem { upc: "9", name: "Sofa", price: 9999, weight: 800 },
];

/// Stock levels by upc (subgraph `inventory`).
pub static STOCK: [(&str, bool); 9] = [
    ("1", true),
    ("2", false),
    ("3", false),
    ("4", false),
    ("5", true),
    ("6", true),
    ("7", true),
    ("8", false),
    ("9", true),
];

/// A review (subgraph `reviews`).
pub struct ReviewRecord {
    pub id: &'static str,
    pub body: &'static str,
    /// The reviewed product's upc.
    pub upc: &'static str,
}

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.";
const SED_UT: &str = "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi";
const SED_QUIA: &str = "sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.";
const UT_ENIM: &str = "Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem";
const AT_VERO: &str = "At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.";

#[rustfmt::skip]
pub static REVIEWS: [ReviewRecord; 11] = [
    ReviewRecord { id: "1", body: LOREM, upc: "1" },
    ReviewRecord { id: "2", body: SED_UT, upc: "1" },
    ReviewRecord { id: "3", body: SED_QUIA, upc: "1" },
    ReviewRecord { id: "4", body: UT_ENIM, upc: "1" },
    ReviewRecord { id: "5", body: LOREM, upc: "2" },
    ReviewRecord { id: "6", body: SED_UT, upc: "2" },
    ReviewRecord { id: "7", body: SED_QUIA, upc: "2" },
    ReviewRecord { id: "8", body: UT_ENIM, upc: "2" },
    ReviewRecord { id: "9", body: UT_ENIM, upc: "3" },
    ReviewRecord { id: "10", body: UT_ENIM, upc: "4" },
    ReviewRecord { id: "11", body: AT_VERO, upc: "4" },
];
