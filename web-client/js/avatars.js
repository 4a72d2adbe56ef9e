// Avatars are a shape and a colour from fixed sets, so nobody needs a picture of themselves.
// One path per shape (in a 100×100 box) serves both the SVG marks and the canvas map.

import { s } from './dom.js';

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'drop', 'leaf', 'cloud'];
export const COLORS = ['sakura', 'sora', 'wakaba', 'mikan', 'fuji', 'suna', 'umi', 'sumi'];

// Chosen to be soft yet to keep at least 3:1 against the light map and page backgrounds.
export const COLOR_HEX = {
  sakura: '#d46a8c',
  sora: '#3f86c4',
  wakaba: '#4f9a45',
  mikan: '#d9781f',
  fuji: '#8662bd',
  suna: '#a8824c',
  umi: '#1f7a80',
  sumi: '#4a4a57',
};

function starPath() {
  const points = [];
  for (let i = 0; i < 10; i += 1) {
    const r = i % 2 === 0 ? 46 : 20;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    points.push(`${(50 + r * Math.cos(a)).toFixed(1)},${(54 + r * Math.sin(a)).toFixed(1)}`);
  }
  return `M${points.join(' L')} Z`;
}

export const SHAPE_PATHS = {
  circle: 'M8,50 A42,42 0 1,0 92,50 A42,42 0 1,0 8,50 Z',
  square: 'M22,10 H78 Q90,10 90,22 V78 Q90,90 78,90 H22 Q10,90 10,78 V22 Q10,10 22,10 Z',
  triangle: 'M50,8 Q54,8 56,12 L93,82 Q95,90 87,90 H13 Q5,90 7,82 L44,12 Q46,8 50,8 Z',
  star: starPath(),
  heart: 'M50,90 C22,70 6,54 6,33 C6,18 17,8 30,8 C40,8 47,14 50,22 C53,14 60,8 70,8 C83,8 94,18 94,33 C94,54 78,70 50,90 Z',
  drop: 'M50,5 C44,16 16,44 16,63 A34,34 0 0,0 84,63 C84,44 56,16 50,5 Z',
  leaf: 'M12,88 C10,46 36,12 90,10 C92,62 60,90 12,88 Z M12,88 L50,50',
  cloud: 'M24,80 A17,17 0 0,1 20,47 A22,22 0 0,1 52,28 A20,20 0 0,1 84,46 A17,17 0 0,1 80,80 Z',
};

/** A small SVG mark of an avatar; decorative unless `label` is given. */
export function avatarMark(avatar, { size = 24, label = null } = {}) {
  const color = COLOR_HEX[avatar?.color] || COLOR_HEX.sumi;
  const d = SHAPE_PATHS[avatar?.shape] || SHAPE_PATHS.circle;
  const svg = s('svg', {
    class: 'avatar-mark',
    viewBox: '0 0 100 100',
    width: size,
    height: size,
    'aria-hidden': label ? null : 'true',
    role: label ? 'img' : null,
    'aria-label': label,
    focusable: 'false',
  }, s('path', {
    d,
    fill: color,
    stroke: 'rgba(30, 24, 20, 0.45)',
    'stroke-width': 4,
    'stroke-linejoin': 'round',
  }));
  return svg;
}

const pathCache = new Map();
function path2d(shape) {
  if (!pathCache.has(shape)) pathCache.set(shape, new Path2D(SHAPE_PATHS[shape] || SHAPE_PATHS.circle));
  return pathCache.get(shape);
}

/** Draws an avatar centred at (cx, cy) with the given radius, in canvas pixels. */
export function drawAvatar(ctx, avatar, cx, cy, radius) {
  const scale = (radius * 2) / 100;
  ctx.save();
  ctx.translate(cx - radius, cy - radius);
  ctx.scale(scale, scale);
  ctx.fillStyle = COLOR_HEX[avatar?.color] || COLOR_HEX.sumi;
  ctx.strokeStyle = 'rgba(30, 24, 20, 0.5)';
  ctx.lineWidth = 4;
  ctx.lineJoin = 'round';
  const p = path2d(avatar?.shape);
  ctx.fill(p);
  ctx.stroke(p);
  ctx.restore();
}
