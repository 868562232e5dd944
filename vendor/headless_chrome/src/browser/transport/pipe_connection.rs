//! saml-login patch: the DevTools protocol over Chromium's `--remote-debugging-pipe`.
//! Chromium reads commands on its fd 3 and writes replies and events on its fd 4; each
//! message is one JSON text followed by a NUL byte. Nothing listens on any port, so no
//! other local user can connect to the browser.

use std::io::{BufRead, BufReader, Write};
use std::sync::Mutex;
use std::sync::mpsc;

use anyhow::{Result, anyhow};
use log::{debug, trace, warn};

use crate::browser::process::PipeEnds;
use crate::types::{Message, parse_raw_message};

pub struct PipeConnection {
    to_chrome: Mutex<Option<std::io::PipeWriter>>,
    process_id: Option<u32>,
}

impl std::fmt::Debug for PipeConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> Result<(), std::fmt::Error> {
        write!(f, "PipeConnection {{}}")
    }
}

impl PipeConnection {
    pub fn new(
        pipe: PipeEnds,
        process_id: Option<u32>,
        messages_tx: mpsc::Sender<Message>,
    ) -> Result<Self> {
        let PipeEnds {
            to_chrome,
            from_chrome,
        } = pipe;
        std::thread::Builder::new()
            .name("devtools-pipe-reader".into())
            .spawn(move || {
                Self::dispatch_incoming_messages(
                    BufReader::new(from_chrome),
                    &messages_tx,
                    process_id,
                );
                if messages_tx.send(Message::ConnectionShutdown).is_err() {
                    warn!("Couldn't tell the transport loop that the pipe closed");
                }
            })?;
        Ok(Self {
            to_chrome: Mutex::new(Some(to_chrome)),
            process_id,
        })
    }

    fn dispatch_incoming_messages(
        mut reader: BufReader<std::io::PipeReader>,
        messages_tx: &mpsc::Sender<Message>,
        process_id: Option<u32>,
    ) {
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(0, &mut buffer) {
                Ok(0) => {
                    debug!("DevTools pipe of Chrome #{process_id:?} closed");
                    return;
                }
                Ok(_) => {}
                Err(err) => {
                    debug!("DevTools pipe of Chrome #{process_id:?}: {err}");
                    return;
                }
            }
            if buffer.last() != Some(&0) {
                debug!("DevTools pipe of Chrome #{process_id:?} closed mid-message");
                return;
            }
            buffer.pop();
            let Ok(text) = std::str::from_utf8(&buffer) else {
                trace!("Ignoring a DevTools message that is not UTF-8");
                continue;
            };
            match parse_raw_message(text) {
                Ok(message) => {
                    if messages_tx.send(message).is_err() {
                        return;
                    }
                }
                Err(_) => trace!("Incoming message isn't recognised as event or method response"),
            }
        }
    }

    pub fn send_message(&self, message_text: &str) -> Result<()> {
        let mut guard = self
            .to_chrome
            .lock()
            .map_err(|err| anyhow!("pipe mutex poisoned: {err}"))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| anyhow!("the DevTools pipe is closed"))?;
        let mut message = Vec::with_capacity(message_text.len() + 1);
        message.extend_from_slice(message_text.as_bytes());
        message.push(0);
        writer.write_all(&message)?;
        Ok(())
    }

    /// Closes the command pipe: Chromium takes that as the end of the session.
    pub fn shutdown(&self) {
        trace!("Closing the DevTools pipe of Chrome {:?}", self.process_id);
        if let Ok(mut guard) = self.to_chrome.lock() {
            guard.take();
        }
    }
}
