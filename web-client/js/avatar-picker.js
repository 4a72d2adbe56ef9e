// Choosing an avatar: a shape and a colour, each a group of radio buttons that previews its
// options in the other group's current choice, and a preview of the whole with the name.
// Used by guest entry, registration and settings.

import { COLORS, SHAPES, avatarMark } from './avatars.js';
import { h, replaceChildren } from './dom.js';
import { t } from './i18n.js';

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

/** A random start, so that a crowd of newcomers does not all look alike. */
export function randomAvatar() {
  return { shape: pick(SHAPES), color: pick(COLORS) };
}

export class AvatarPicker {
  /**
   * @param {string} prefix  unique in the document (radio group names)
   * @param {{shape: string, color: string}} avatar  changed in place
   * @param {() => string} previewName  the name shown beside the preview
   */
  constructor(prefix, avatar, previewName) {
    this.prefix = prefix;
    this.avatar = avatar;
    this.previewName = previewName;
    this.root = null;
    this.preview = null;
  }

  render() {
    this.preview = h('div', { class: 'enter-preview', 'aria-hidden': 'true' });
    this.root = h('div', { class: 'avatar-picker' },
      this.group('shape', SHAPES, t('enter.shapeLegend'), (shape) => t(`shape.${shape}`)),
      this.group('color', COLORS, t('enter.colorLegend'), (color) => t(`color.${color}`)),
      h('div', { class: 'enter-preview-row' },
        h('p', { class: 'hint', text: t('enter.previewLabel') }),
        this.preview));
    this.refreshMarks();
    return this.root;
  }

  group(name, options, legend, labelFor) {
    return h('fieldset', { class: `choices choices-${name}` },
      h('legend', { text: legend }),
      h('div', { class: 'choice-grid' },
        options.map((value) => h('label', { class: 'choice' },
          h('input', {
            type: 'radio',
            name: `${this.prefix}-${name}`,
            value,
            checked: this.avatar[name] === value,
            class: 'choice-input',
            on: { change: () => { this.avatar[name] = value; this.refreshMarks(); } },
          }),
          h('span', { class: 'choice-face', dataset: { [name]: value } },
            avatarMark({ shape: 'circle', color: 'sumi' }, { size: 32 }),
            h('span', { class: 'choice-name', text: labelFor(value) }))))));
  }

  /** Each group previews its options in the other group's current choice. */
  refreshMarks() {
    if (!this.root) return;
    for (const face of this.root.querySelectorAll('.choice-face')) {
      const avatar = face.dataset.shape
        ? { shape: face.dataset.shape, color: this.avatar.color }
        : { shape: this.avatar.shape, color: face.dataset.color };
      face.querySelector('svg').replaceWith(avatarMark(avatar, { size: 32 }));
    }
    this.updatePreview();
  }

  updatePreview() {
    if (!this.preview) return;
    replaceChildren(this.preview,
      avatarMark(this.avatar, { size: 56 }),
      h('span', { class: 'enter-preview-name', text: this.previewName().trim() || t('enter.previewNoName') }));
  }
}
