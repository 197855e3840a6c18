//! Where a notification goes. The seed's settings are the simple layer (the app's owner, else the
//! environment's channel, else the default channel); a routing document adds filters, fan-out, both
//! providers, webhooks and mentions on top. Pure: the catalog's answer comes in as an argument.

mod document;
mod source;

use std::collections::HashMap;

pub use document::{Context, Matcher, Route, RoutesError, RoutingDocument, Target};
pub use source::RoutesSource;

use crate::category::Category;
use crate::destination::{Destination, Mention};
use crate::event::RackEvent;

/// The seed's routing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRoutes {
    pub default: Destination,
    pub environments: HashMap<String, Destination>,
    pub owners: HashMap<String, Destination>,
}

/// One destination an event goes to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub destination: Destination,
    /// `owner`, `environment` or `default` for the seed's rules; `route <name>` for a document's.
    pub rule: String,
    pub mentions: Vec<Mention>,
    /// Whether lifecycles (a release, an alert) may be one message edited in place here.
    pub live: bool,
}

/// Where an event goes: one or more destinations, or nowhere because a route drops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    To(Vec<Chosen>),
    Dropped { route: String },
}

impl SeedRoutes {
    /// The app's owner: the catalog's live answer, else the static mapping.
    fn owner(&self, event: &RackEvent, catalog_owner: Option<&Destination>) -> Option<Destination> {
        catalog_owner
            .cloned()
            .or_else(|| event.app().and_then(|app| self.owners.get(app)).cloned())
    }

    fn environment(&self, event: &RackEvent) -> Option<Destination> {
        event
            .rack()
            .and_then(|rack| self.environments.get(rack))
            .cloned()
    }

    /// Most specific first: the owner, else the environment's channel, else the default.
    fn seed(&self, event: &RackEvent, catalog_owner: Option<&Destination>) -> Chosen {
        let (destination, rule) = if let Some(owner) = self.owner(event, catalog_owner) {
            (owner, "owner")
        } else if let Some(channel) = self.environment(event) {
            (channel, "environment")
        } else {
            (self.default.clone(), "default")
        };
        Chosen {
            destination,
            rule: rule.to_owned(),
            mentions: Vec::new(),
            live: true,
        }
    }
}

/// Routes `event` by `document` when one is in force, else (or when no route matches) by the seed's rules.
pub fn route(
    event: &RackEvent,
    seed: &SeedRoutes,
    document: Option<&RoutingDocument>,
    catalog_owner: Option<&Destination>,
) -> Routed {
    let fallback = || Routed::To(vec![seed.seed(event, catalog_owner)]);
    let Some(document) = document else {
        return fallback();
    };
    let category = Category::of(&event.action);
    let mut chosen: Vec<Chosen> = Vec::new();
    let mut matched = false;
    for route in &document.routes {
        if !route.matcher.matches(event, category) {
            continue;
        }
        if route.drop {
            if chosen.is_empty() {
                return Routed::Dropped {
                    route: route.name.clone(),
                };
            }
            break;
        }
        let destinations: Vec<Destination> = route
            .to
            .iter()
            .filter_map(|target| match target {
                Target::Destination(destination) => Some(destination.clone()),
                Target::Owner => seed.owner(event, catalog_owner),
                Target::Environment => seed.environment(event),
                Target::Default => Some(seed.default.clone()),
            })
            .collect();
        // A route whose destinations are all unknown for this event (no owner, say) is passed over.
        if destinations.is_empty() {
            continue;
        }
        matched = true;
        for destination in destinations {
            let mentions: Vec<Mention> = route
                .mentions
                .iter()
                .filter(|m| m.provider() == destination.provider)
                .cloned()
                .collect();
            match chosen.iter_mut().find(|c| c.destination == destination) {
                // Each destination gets the event once, with every mention its routes ask for.
                Some(already) => {
                    for mention in mentions {
                        if !already.mentions.contains(&mention) {
                            already.mentions.push(mention);
                        }
                    }
                }
                None => chosen.push(Chosen {
                    destination,
                    rule: format!("route {}", route.name),
                    mentions,
                    live: route.live,
                }),
            }
        }
        if !route.continues {
            break;
        }
    }
    if matched {
        Routed::To(chosen)
    } else {
        fallback()
    }
}

#[cfg(test)]
mod tests;
