// A programme's introduction: an image or a short video kept by the server (shown here, from
// the same origin), or — where the operators allow it — a plain link to a page elsewhere,
// which nobody's browser opens by itself. Staff upload and remove the file.

import { removeGallery, uploadGallery } from './api.js';
import { confirmDialog } from './dialogs.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { getLang, t } from './i18n.js';
import { requestErrorText } from './pages/common.js';

/** `12 KB`, `3.4 MB`. */
export function formatBytes(bytes) {
  const nf = (n, digits) => new Intl.NumberFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB', { maximumFractionDigits: digits }).format(n);
  if (bytes < 1024 * 1024) return t('bytes.kb', { n: nf(Math.max(1, Math.round(bytes / 1024)), 0) });
  return t('bytes.mb', { n: nf(bytes / (1024 * 1024), 1) });
}

/** The introduction of programme `p` as people see it. */
export function galleryMedia(p) {
  const g = p.gallery;
  if (!g) return h('p', { class: 'hint', text: t('gallery.none') });
  if (g.kind === 'link') {
    return h('p', { class: 'gallery-link' },
      t('gallery.linkLead'), ' ',
      h('a', { href: g.url, rel: 'noopener noreferrer', referrerpolicy: 'no-referrer', text: g.url }));
  }
  if (g.content_type?.startsWith('video/')) {
    return h('video', { class: 'gallery-media', src: g.url, controls: true, preload: 'metadata', 'aria-label': t('gallery.videoLabel', { title: p.title }) });
  }
  return h('img', { class: 'gallery-media', src: g.url, alt: t('gallery.imageAlt', { title: p.title }), loading: 'lazy' });
}

/** Staff: upload a file as a programme's introduction, or take it away. */
export class GalleryUpload {
  /**
   * @param {object} config  `gallery` of /api/config: `types`, `max_bytes`
   * @param {object} programme
   * @param {(programme: object) => void} onChange  the programme as it now is
   */
  constructor(config, programme, onChange) {
    this.types = config?.types || ['image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'video/webm'];
    this.maxBytes = config?.max_bytes || 50 * 1024 * 1024;
    this.programme = programme;
    this.onChange = onChange;
    this.busy = false;
    this.error = null;
    this.done = null;
    this.inputId = uniqueId('gallery-file');
    this.el = h('div', { class: 'gallery-upload' });
    // Kept across drawings, so that "sent" is read out.
    this.status = h('p', { class: 'form-status', role: 'status', tabindex: '-1' });
  }

  render() {
    const g = this.programme.gallery;
    const hintId = `${this.inputId}-hint`;
    const errorId = `${this.inputId}-error`;
    const kinds = this.types.map((type) => t(`gallery.type.${type}`, {}, type)).join(t('list.sep'));
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    this.status.textContent = this.done ? this.done() : '';
    replaceChildren(this.el,
      h('p', { class: 'gallery-current', text: this.currentText(g) }),
      h('div', { class: 'field' },
        h('label', { for: this.inputId, text: t('gallery.fileLabel') }),
        h('p', { class: 'hint', id: hintId, text: t('gallery.fileHint', { kinds, max: formatBytes(this.maxBytes) }) }),
        h('input', {
          type: 'file',
          id: this.inputId,
          accept: this.types.join(','),
          disabled: this.busy,
          'aria-describedby': this.error ? `${hintId} ${errorId}` : hintId,
          'aria-invalid': this.error ? 'true' : null,
          dataset: { fkey: 'file' },
        }),
        this.error ? h('p', { class: 'field-error', id: errorId, text: this.error() }) : null),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'primary small', disabled: this.busy, dataset: { fkey: 'upload' }, text: this.busy ? t('gallery.uploading') : t('gallery.upload'), on: { click: () => this.upload() } }),
        g?.kind === 'upload' ? h('button', { type: 'button', class: 'small danger-text', disabled: this.busy, dataset: { fkey: 'remove' }, text: t('gallery.remove'), on: { click: () => this.remove() } }) : null),
      this.status);
    if (focusKey) this.el.querySelector(`[data-fkey="${focusKey}"]:not([disabled])`)?.focus();
    return this.el;
  }

  currentText(g) {
    if (!g) return t('gallery.currentNone');
    if (g.kind === 'link') return t('gallery.currentLink');
    const kind = g.content_type?.startsWith('video/') ? t('gallery.kindVideo') : t('gallery.kindImage');
    return t('gallery.current', { kind, size: formatBytes(g.bytes || 0) });
  }

  async upload() {
    const input = this.el.querySelector('input[type="file"]');
    const file = input?.files?.[0];
    this.error = null;
    this.done = null;
    if (!file) this.error = () => t('gallery.error.none');
    else if (!this.types.includes(file.type)) this.error = () => t('gallery.error.type');
    else if (file.size > this.maxBytes) this.error = () => t('gallery.error.size', { max: formatBytes(this.maxBytes) });
    if (this.error) {
      this.render();
      this.el.querySelector('input[type="file"]')?.focus();
      return;
    }
    this.busy = true;
    this.render();
    try {
      const programme = await uploadGallery(this.programme.id, file);
      this.programme = programme;
      this.done = () => t('gallery.uploaded');
      this.busy = false;
      this.onChange(programme);
      this.render();
      this.status.focus();
    } catch (err) {
      this.busy = false;
      if (err.field === 'content_type') this.error = () => t('gallery.error.type');
      else if (err.field === 'file' && err.code === 'too_long') this.error = () => t('gallery.error.size', { max: formatBytes(this.maxBytes) });
      else if (err.field === 'file') this.error = () => t('gallery.error.content');
      else this.error = () => requestErrorText(err);
      this.render();
      this.el.querySelector('input[type="file"]')?.focus();
    }
  }

  async remove() {
    const ok = await confirmDialog({
      title: t('gallery.removeTitle', { title: this.programme.title }),
      message: t('gallery.removeText'),
      confirmLabel: t('gallery.remove'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    this.error = null;
    this.busy = true;
    this.render();
    try {
      const programme = await removeGallery(this.programme.id);
      this.programme = programme && programme.id ? programme : { ...this.programme, gallery: null };
      this.done = () => t('gallery.removed');
      this.busy = false;
      this.onChange(this.programme);
      this.render();
      this.status.focus();
    } catch (err) {
      this.busy = false;
      this.error = () => requestErrorText(err);
      this.render();
    }
  }
}
