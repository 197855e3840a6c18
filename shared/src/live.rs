//! One live message per lifecycle and destination: a root posted once and edited as the lifecycle moves,
//! and a short reply per event under it. The state that says which message is the root lives in the
//! ledger, changed under a lock, so a cold container, another container and a redeploy carry on the same
//! message and two concurrent events never post two roots.

use std::time::Duration;

use tokio::time::Instant;

use crate::deadline::Deadline;
use crate::deliver::{DeliveryError, Message, Messenger, Refusal, or_as_plain_text};
use crate::destination::{Destination, Mention, Receipt};
use crate::ledger::{LedgerError, Lock, Owner, Threads};
use crate::lifecycle::{Lifecycle, Merged, Root, State, Step};
use crate::notification::{Notification, Tone};
use crate::render::Form;

/// How long an event waits while another invocation edits the same root; past it the event fails and
/// Lambda retries it.
const LOCK_WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(250);

/// What one event shows in a live message at one destination.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Live<'a> {
    pub lifecycle: &'a Lifecycle,
    pub note: &'a Notification,
    pub to: &'a Destination,
    pub mentions: &'a [Mention],
    /// The delivery's key, from which each message's own key (and Discord nonce) is made.
    pub key: &'a str,
}

/// Shows `step` in its lifecycle's root at the destination (posting the root first if there is none, or
/// again if it was deleted) and replies under it; the reply's receipt.
pub(crate) async fn deliver(
    messenger: &impl Messenger,
    threads: &impl Threads,
    live: Live<'_>,
    step: Step,
    owner: &Owner,
    deadline: Deadline,
) -> Result<Receipt, DeliveryError> {
    let thread_key = format!("thread#{}#{}", live.lifecycle.id, live.to.key());
    let mut state = lock(threads, &thread_key, owner, deadline).await?;
    let (steps_before, root_before) = (state.steps.clone(), state.root.clone());
    let failure = step.tone == Tone::Failure;
    let merged = state.merge(step);
    let shown = show(messenger, live, &mut state, merged, deadline).await;
    // A failed showing keeps the step out of the state, so that Lambda's retry shows it; a root posted
    // on the way is kept all the same, so that the retry does not post a second one.
    let kept = match &shown {
        Ok(()) => state.clone(),
        Err(_) => State {
            root: state.root.clone(),
            steps: if merged == Merged::Restarted {
                Vec::new()
            } else {
                steps_before
            },
        },
    };
    let text = serde_json::to_string(&kept).unwrap_or_default();
    if let Err(source) = threads.save(&thread_key, owner, &text, deadline).await {
        tracing::error!(thread = %thread_key, %source, "could not store the live message's state");
        shown?;
        return Err(DeliveryError::Thread { source });
    }
    shown?;
    let root = state.root.as_ref().ok_or(DeliveryError::Thread {
        source: LedgerError::Busy { key: thread_key },
    })?;
    // A failure shows in the channel too, unless this event posted the root there: one message, not two.
    let broadcast = failure && state.root == root_before;
    // A step already known is a retry of this very delivery (a repeat of a delivered one never gets
    // here): its reply failed or was not recorded, so it is sent again.
    let key = format!("{}#reply", live.key);
    let reply = Message {
        note: live.note,
        mentions: live.mentions,
        key: Some(&key),
        form: Form::Plain,
    };
    messenger
        .reply(live.to, root, &reply, broadcast, deadline)
        .await
}

/// Takes the lifecycle's lock, waiting while another invocation holds it, and reads its state.
async fn lock(
    threads: &impl Threads,
    key: &str,
    owner: &Owner,
    deadline: Deadline,
) -> Result<State, DeliveryError> {
    let give_up = Instant::now() + LOCK_WAIT;
    loop {
        match threads.lock(key, owner, deadline).await {
            Ok(Lock::Taken { state }) => {
                return Ok(state
                    .and_then(|text| {
                        serde_json::from_str(&text)
                            .inspect_err(|error| tracing::error!(thread = key, %error, "unreadable live message state; starting a new root"))
                            .ok()
                    })
                    .unwrap_or_default());
            }
            Ok(Lock::Held)
                if Instant::now() + POLL < give_up && deadline.fits(Instant::now(), POLL) =>
            {
                tokio::time::sleep(POLL).await;
            }
            Ok(Lock::Held) => {
                return Err(DeliveryError::Thread {
                    source: LedgerError::Busy {
                        key: key.to_owned(),
                    },
                });
            }
            Err(source) => return Err(DeliveryError::Thread { source }),
        }
    }
}

/// Brings the root up to date: posts it when there is none (or the lifecycle began again), edits it for
/// a new step, posts a new one when it was deleted or an edit is refused for good.
async fn show(
    messenger: &impl Messenger,
    live: Live<'_>,
    state: &mut State,
    merged: Merged,
    deadline: Deadline,
) -> Result<(), DeliveryError> {
    let note = state.root_note(live.lifecycle, live.note);
    let key = format!("{}#root", live.key);
    let message = Message {
        note: &note,
        mentions: live.mentions,
        key: Some(&key),
        form: Form::Full,
    };
    let post = |message| async move { post_root(messenger, live, &message, deadline).await };
    let Some(root) = &state.root else {
        state.root = Some(or_as_plain_text(live.to, message, post).await?);
        return Ok(());
    };
    if merged == Merged::Known {
        return Ok(());
    }
    let edit = Message {
        mentions: &[],
        ..message
    };
    let edited = or_as_plain_text(live.to, edit, |edit| async move {
        messenger.edit(live.to, root, &edit, deadline).await
    });
    match edited.await {
        Ok(()) => Ok(()),
        Err(error)
            if error.refusal() == Some(Refusal::Gone)
                || (!error.is_retryable() && error.refusal() != Some(Refusal::Credential)) =>
        {
            tracing::warn!(destination = %live.to, %error, "root message gone or not editable; posting a new one");
            state.root = Some(or_as_plain_text(live.to, message, post).await?);
            Ok(())
        }
        Err(error) => Err(error),
    }
}

async fn post_root(
    messenger: &impl Messenger,
    live: Live<'_>,
    message: &Message<'_>,
    deadline: Deadline,
) -> Result<Root, DeliveryError> {
    let posted = messenger.post(live.to, message, deadline).await?;
    let mut root = Root {
        channel: posted.channel,
        message_id: posted.message_id,
        thread: None,
    };
    root.thread = messenger
        .open_thread(live.to, &root, &message.note.title_line(), deadline)
        .await
        .inspect_err(|error| tracing::warn!(destination = %live.to, %error, "cannot start the root's thread; replies go to the channel"))
        .ok()
        .flatten();
    Ok(root)
}
