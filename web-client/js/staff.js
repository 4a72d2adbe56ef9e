// Staff tools: creating and closing rooms, muting, removing and readmitting people, and
// deleting any message. Every action but creating a room asks for a reason, which the
// server keeps in its audit log. Shown only to staff and admins; the server checks anyway.

import { formDialog } from './dialogs.js';
import { errorText, t } from './i18n.js';

async function ask(app, frame) {
  try {
    return await app.conn.request(frame);
  } catch (err) {
    // Thrown errors are shown inside the dialog, which stays open.
    throw new Error(errorText(err));
  }
}

function reasonField(app, shown = false) {
  return {
    name: 'reason',
    type: 'textarea',
    label: shown ? t('staff.reasonShown') : t('staff.reason'),
    required: true,
    maxLength: app.limits.reason_max_chars,
    rows: 2,
  };
}

export async function createRoomDialog(app) {
  const limits = app.limits;
  const ack = await formDialog({
    title: t('staff.createTitle'),
    submitLabel: t('staff.create'),
    fields: [
      { name: 'name', label: t('staff.roomName'), required: true, maxLength: limits.room_name_max_chars },
      { name: 'topic', type: 'textarea', label: t('staff.roomTopic'), maxLength: limits.reason_max_chars, rows: 2 },
      { name: 'capacity', type: 'number', label: t('staff.capacity'), hint: t('staff.capacityHint'), min: 1, max: 100000, value: limits.default_room_capacity, required: true },
    ],
    onSubmit: (v) => ask(app, { type: 'create_room', name: v.name.trim(), topic: v.topic.trim(), capacity: v.capacity }),
  });
  if (ack?.room) app.notify(t('staff.created', { room: ack.room.name }));
}

export async function archiveRoomDialog(room) {
  const app = room.app;
  const ack = await formDialog({
    title: t('staff.archiveTitle', { room: room.displayName() }),
    intro: t('staff.archiveIntro'),
    submitLabel: t('staff.archive'),
    danger: true,
    fields: [reasonField(app)],
    onSubmit: (v) => ask(app, { type: 'archive_room', room: room.id, reason: v.reason.trim() }),
  });
  if (ack) app.notify(t('staff.archived', { room: room.displayName() }));
}

/** Mute, unmute, remove or readmit `person` in `room`. */
export async function moderateDialog(room, person, preset = 'mute') {
  const app = room.app;
  const lobby = room.isLobby;
  const actions = lobby ? ['mute', 'unmute'] : ['mute', 'unmute', 'remove', 'readmit'];
  const max = app.limits.max_mute_minutes;
  let chosen = null;
  const ack = await formDialog({
    title: t('staff.moderateTitle', { handle: person.handle, room: room.displayName() }),
    submitLabel: t('staff.do'),
    fields: [
      { name: 'action', type: 'radio', label: t('staff.action'), value: actions.includes(preset) ? preset : 'mute', options: actions.map((a) => ({ value: a, label: t(`staff.${a}`) })) },
      { name: 'minutes', type: 'number', label: t('staff.minutes'), hint: t('staff.minutesHint', { max }), min: 1, max, value: 10 },
      reasonField(app, true),
    ],
    onChange: (v, form) => {
      // Minutes only mean something for a mute; a disabled field is also left unvalidated.
      form.elements.minutes.disabled = v.action !== 'mute';
    },
    onSubmit: (v) => {
      chosen = v;
      const base = { room: room.id, account: person.id, reason: v.reason.trim() };
      if (v.action === 'mute') return ask(app, { type: 'mute', ...base, minutes: v.minutes });
      return ask(app, { type: v.action, ...base });
    },
  });
  if (!ack || !chosen) return;
  if (chosen.action === 'remove') room.removedPeople.set(person.id, person);
  if (chosen.action === 'readmit') room.removedPeople.delete(person.id);
  room.presence.render();
  app.notify(t(`staff.done.${chosen.action}`, { handle: person.handle, minutes: chosen.minutes, room: room.displayName() }));
}

export async function readmit(room, person) {
  return moderateDialog(room, person, 'readmit');
}

export async function staffDeleteDialog(room, msg) {
  const app = room.app;
  const ack = await formDialog({
    title: t('staff.deleteTitle', { handle: msg.author.handle }),
    intro: t('staff.deleteIntro'),
    submitLabel: t('timeline.deleteConfirm'),
    danger: true,
    fields: [reasonField(app)],
    onSubmit: (v) => ask(app, { type: 'delete', room: room.id, message_id: msg.id, reason: v.reason.trim() }),
  });
  if (ack) app.notify(t('staff.deleteDone'));
}
