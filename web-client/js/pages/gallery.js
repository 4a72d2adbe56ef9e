// The gallery: every programme on offer with its introduction (an image or a video shown
// here, or a plain link elsewhere), what it is about, who hosts it and whom it is for. Public.
// Staff also change the introduction from here.

import { listProgrammes } from '../api.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { GalleryUpload, galleryMedia } from '../gallery.js';
import { t } from '../i18n.js';
import { ageBandsText, categoryBadge, hostsText, modesText } from '../programmes.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

export class GalleryPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page gallery-page' });
    this.programmes = null;
    this.error = null;
    this.list = h('div', { class: 'gallery-list' });
    // Per programme: where its introduction is shown, and the staff's upload control.
    this.media = new Map();
    this.uploads = new Map();
    this.load();
  }

  title() {
    return t('gallery.title');
  }

  async load() {
    try {
      this.programmes = await listProgrammes();
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.renderList();
  }

  render() {
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('gallery.title')),
        h('p', { text: t('gallery.lead') }),
        h('p', {}, linkButton('#/timetable', t('gallery.toTimetable')))),
      this.list);
    this.renderList();
  }

  renderList() {
    let content;
    if (this.error) content = h('div', { class: 'page-card' }, h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) }));
    else if (!this.programmes) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.programmes.length) content = h('div', { class: 'page-card' }, h('p', { class: 'empty', text: t('gallery.empty') }));
    else content = this.programmes.map((p) => this.card(p));
    replaceChildren(this.list, content);
  }

  card(p) {
    const titleId = uniqueId('gallery-title');
    const media = h('div', { class: 'gallery-media-wrap' }, galleryMedia(p));
    this.media.set(p.id, media);
    let upload = null;
    if (this.ctx.app.isStaff) {
      const control = new GalleryUpload(this.ctx.config.gallery, p, (changed) => {
        const i = this.programmes.findIndex((x) => x.id === changed.id);
        if (i >= 0) this.programmes[i] = changed;
        replaceChildren(media, galleryMedia(changed));
      });
      this.uploads.set(p.id, control);
      const uploadTitle = uniqueId('gallery-upload');
      upload = h('section', { class: 'staff-only', 'aria-labelledby': uploadTitle },
        h('h3', { id: uploadTitle, text: t('gallery.staffTitle', { title: p.title }) }),
        control.render());
    }
    const ages = ageBandsText(p.age_bands);
    const hosts = hostsText(p.hosts);
    return h('article', { class: 'page-card gallery-card', 'aria-labelledby': titleId, dataset: { programme: p.id } },
      h('h2', { id: titleId, text: p.title }),
      h('p', {}, categoryBadge(p.category)),
      media,
      p.description ? h('p', { class: 'gallery-description', text: p.description }) : null,
      hosts ? h('p', { text: hosts }) : null,
      ages ? h('p', { text: ages }) : null,
      h('p', { class: 'hint', text: modesText(p.modes) }),
      upload);
  }
}
