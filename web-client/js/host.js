// What a programme's hosts (and staff) may do in its room: pin a notice at the top, take the
// stage (only hosts and the people they let in write; everyone may still send stamps), and
// let someone join in or take that back. Mute and remove are the staff tools of staff.js,
// which the server lets hosts use in their programme's rooms. Each is audited by the server.

import { formDialog } from './dialogs.js';
import { errorText, t } from './i18n.js';

async function ask(app, frame) {
  try {
    return await app.conn.request(frame);
  } catch (err) {
    // Shown inside the dialog, which stays open.
    throw new Error(errorText(err));
  }
}

/** Pins a notice (or changes the pinned one). */
export async function pinDialog(room) {
  const app = room.app;
  const ack = await formDialog({
    title: room.info.pinned ? t('host.pinChangeTitle') : t('host.pinTitle'),
    intro: t('host.pinIntro'),
    submitLabel: t('host.pinSubmit'),
    fields: [{ name: 'text', type: 'textarea', label: t('host.pinLabel'), required: true, maxLength: app.limits.max_message_chars, rows: 3, value: room.info.pinned || '' }],
    onSubmit: (v) => {
      const text = v.text.trim();
      if (!text) throw new Error(t('host.pinEmpty'));
      return ask(app, { type: 'pin', room: room.id, text });
    },
  });
  if (ack) app.notify(t('host.pinned'));
}

/** Takes the pinned notice away. */
export async function unpin(room) {
  try {
    await room.app.conn.request({ type: 'pin', room: room.id, text: null });
    room.app.notify(t('host.unpinned'));
  } catch (err) {
    room.app.notify(errorText(err));
  }
}

/** Starts or ends the stage. */
export async function setStage(room, on) {
  try {
    await room.app.conn.request({ type: 'stage', room: room.id, on });
  } catch (err) {
    room.app.notify(errorText(err));
  }
}

/** Lets `person` join in (writing on stage, and as a participant although the room is full), or takes it back. */
export async function giveVoice(room, person, on) {
  try {
    await room.app.conn.request({ type: 'give_voice', room: room.id, account: person.id, on });
  } catch (err) {
    room.app.notify(errorText(err));
    return;
  }
  if (on) room.voicedPeople.add(person.id);
  else room.voicedPeople.delete(person.id);
  room.presence.render();
  room.app.notify(t(on ? 'host.voiceGiven' : 'host.voiceTaken', { handle: person.handle }));
}
