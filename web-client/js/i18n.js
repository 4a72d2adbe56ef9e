// Every string the person reads, in Japanese (first) and English. Values are strings with
// {placeholders} or functions of the parameters (for plurals). No other module holds text.

const LANG_KEY = 'ibasho.lang';
export const LANGS = ['ja', 'en'];

const ja = {
  'app.name': 'ibasho',
  'app.sub': '居場所',
  'app.heading': 'ibasho（居場所）',
  'app.skip': '本文へ移動',
  'app.loading': '読み込んでいます…',
  'app.loadFailed': 'サーバーにつながりませんでした。少し待ってから、ページを読み込み直してください。',
  'app.retry': 'もう一度ためす',

  'header.lang': '表示する言語',
  'header.signOut': '退出する',
  'header.you': 'あなた：{handle}',
  'header.staffBadge': 'スタッフ',
  'signOut.title': 'このブラウザから退出しますか？',
  'signOut.message': 'このブラウザに残っている入場の記録を消します。同じ呼び名ではもう入れなくなります。ただ休むだけなら、このページを閉じるだけで大丈夫です。',
  'signOut.confirm': '記録を消して退出する',
  'signOut.cancel': 'やめる',

  'conn.connecting': 'つないでいます…',
  'conn.reconnecting': '再接続しています…',
  'conn.unauthorized': '入場の記録が使えなくなりました。もう一度、入り直してください。',
  'conn.unsupported': 'このページは古くなっています。ページを読み込み直してください。',
  'conn.tooMany': 'ほかのタブやウィンドウで ibasho を開きすぎています。どれかを閉じてから、もう一度つないでください。',
  'conn.retry': 'もう一度つなぐ',
  'conn.reload': '読み込み直す',

  'enter.title': 'ibasho へようこそ',
  'enter.lead': 'ここにいるだけで大丈夫です。',
  'enter.anonymous': '本名も、顔も、声もいりません。ここで呼ばれたい名前と、アバター（形と色）を選ぶだけです。',
  'enter.watching': '書き込まずに見ているだけでも大丈夫です。見ている人は、ほかの人には人数だけが伝わります。',
  'enter.leaving': '好きなときに来て、好きなときに帰ってください。あいさつはいりません。',
  'enter.handleLabel': 'ここでの呼び名',
  'enter.handleHint': '2〜24 文字。本名や連絡先は書かないでください。',
  'enter.shapeLegend': 'アバターの形',
  'enter.colorLegend': 'アバターの色',
  'enter.previewLabel': 'この姿で入ります：',
  'enter.previewNoName': '（呼び名）',
  'enter.submit': '入る',
  'enter.entering': '入っています…',
  'enter.handleRequired': '呼び名を入れてください。',
  'enter.error.invalid_handle': 'この呼び名は使えません。',
  'enter.error.handle_taken': 'この呼び名は、もうほかの人が使っています。別の呼び名にしてください。',
  'enter.error.rate_limited': 'いま入る人が多いようです。1 分ほど待ってから、もう一度どうぞ。',
  'enter.error.not_allowed': 'いまは、この方法では入れません。スタッフからの案内をお待ちください。',
  'enter.error.network': 'サーバーにつながりませんでした。通信の状態を確かめて、もう一度どうぞ。',
  'enter.error.other': 'うまく入れませんでした。少し待って、もう一度どうぞ。',
  'enter.signedOutNotice': 'また来てくださいね。',

  'shape.circle': 'まる',
  'shape.square': 'しかく',
  'shape.triangle': 'さんかく',
  'shape.star': 'ほし',
  'shape.heart': 'ハート',
  'shape.drop': 'しずく',
  'shape.leaf': 'はっぱ',
  'shape.cloud': 'くも',
  'color.sakura': 'さくら',
  'color.sora': 'そら',
  'color.wakaba': 'わかば',
  'color.mikan': 'みかん',
  'color.fuji': 'ふじ',
  'color.suna': 'すな',
  'color.umi': 'うみ',
  'color.sumi': 'すみ',

  'nav.title': 'へや',
  'nav.lobbyKind': 'ひろば',
  'nav.joinedAs': '{mode}で入っています',
  'nav.notJoined': '入っていません',
  'nav.archived': '閉じたへや',
  'nav.newActivity': '新しい書き込みがあります',
  'nav.createRoom': 'へやをつくる',

  'home.title': 'ようこそ、{handle} さん',
  'home.where': '行きたいところを選んでください。どこにも入らず、このまま休んでいても大丈夫です。',
  'home.lobby': 'ひろばでは、アバターで歩き回りながら、ゆるく話せます。',
  'home.enterLobby': 'ひろばに入る',

  'mode.participant': '参加する',
  'mode.chat_only': 'チャットのみ',
  'mode.view_only': '見るだけ',
  'mode.participant.lobby': '地図にアバターが出て、書き込みやスタンプもできます。',
  'mode.participant.chat': '書き込みやスタンプができます。名前が「ここにいる人」に出ます。',
  'mode.chat_only.desc': '文字とスタンプだけで参加します。声やビデオは使いません。',
  'mode.view_only.desc': '名前は出ず、人数だけが伝わります。書き込みはできません。見ているだけで大丈夫です。',
  'mode.dialogTitle': '「{room}」への入り方',
  'mode.dialogIntro': 'あとから変えることもできます。',
  'mode.legend': '入り方',
  'mode.enter': '入る',
  'mode.change': '入り方を変える',
  'mode.changeTitle': '「{room}」での入り方を変える',
  'mode.changeSubmit': '変える',
  'mode.current': 'いまは「{mode}」で入っています。',

  'room.leave': 'このへやを出る',
  'room.archive': 'このへやを閉じる',
  'room.lobbyTopic': 'アバターで歩き回れる、みんなのひろばです。',
  'room.left': '「{room}」を出ました。',
  'room.closed': '「{room}」は閉じられました。ここまでいてくれて、ありがとうございました。',
  'room.removed': 'スタッフから、「{room}」を少し離れてほしいとお願いがありました。',
  'room.removedReason': '理由：{reason}',
  'room.rejoinFailed': '「{room}」に入り直せませんでした：{error}',
  'room.modeChanged': '入り方を「{mode}」に変えました。',
  'room.chatLabel': '「{room}」のチャット',

  'people.title': 'ここにいる人',
  'people.none': 'いまは、ほかにだれもいません。',
  'people.you': '（あなた）',
  'people.staff': 'スタッフ',
  'people.deletedMember': '退会したメンバー',
  'people.watching': (p) => `${p.count} 人が見ています`,
  'people.youWatch': 'あなたは見るだけで入っています。',
  'people.watchersTitle': '見ている人 (スタッフにのみ表示)',
  'people.watchersNone': 'いません。',
  'people.removedTitle': '離れてもらった人 (スタッフにのみ表示)',
  'people.moderate': '{handle} さんへの対応',
  'people.moderateShort': '対応',
  'people.readmit': '戻れるようにする',
  'people.readmitLabel': '{handle} さんが戻れるようにする',

  'map.label': 'ひろばの地図。矢印キーか W・A・S・D キーで自分のアバターを動かせます。地図をクリックすると、その場所へ歩きます。',
  'map.labelWatching': 'ひろばの地図。見るだけで入っているので、あなたのアバターは出ていません。',
  'map.help': '地図を選んでから、矢印キーか W・A・S・D で動けます。',
  'map.helpWatching': '見るだけで入っているので、地図にあなたは出ていません。',
  'map.peopleTitle': '地図にいる人の位置',
  'map.position': '{handle} — x {x}, y {y}',
  'map.selfLabel': '{handle}（あなた）',

  'timeline.loadOlder': '前の書き込みを読み込む',
  'timeline.loadingOlder': '読み込んでいます…',
  'timeline.noOlder': 'ここより前の書き込みはありません。',
  'timeline.empty': 'まだ書き込みはありません。スタンプだけ、見るだけでも大丈夫です。',
  'timeline.edited': '(編集済み)',
  'timeline.deleted': 'このメッセージは削除されました',
  'timeline.deletedByStaff': 'このメッセージはスタッフにより削除されました',
  'timeline.sending': '送信中…',
  'timeline.failed': '送れませんでした：{error}',
  'timeline.retry': 'もう一度送る',
  'timeline.discard': '取り消す',
  'timeline.edit': '編集',
  'timeline.editLabel': 'メッセージを編集',
  'timeline.save': '保存',
  'timeline.cancel': 'やめる',
  'timeline.delete': '削除',
  'timeline.deleteTitle': 'このメッセージを削除しますか？',
  'timeline.deleteMessage': '削除すると、みんなの画面から本文が消えます。',
  'timeline.deleteConfirm': '削除する',
  'timeline.staffDelete': '削除（スタッフ）',
  'timeline.stamps': 'スタンプ',
  'timeline.stampCount': (p) => (p.count > 0 ? `${p.label} ${p.count}` : p.label),

  'stamp.wave': 'やあ',
  'stamp.heart': 'あたたかい',
  'stamp.smile': 'にっこり',
  'stamp.thanks': 'ありがとう',
  'stamp.clap': 'はくしゅ',
  'stamp.tea': 'お茶どうぞ',
  'stamp.sparkle': 'すてき',
  'stamp.eyes': '読んでいます',

  'composer.label': 'メッセージ',
  'composer.placeholder': 'ここに書けます（Enter で送信、Shift+Enter で改行）',
  'composer.send': '送る',
  'composer.count': '{count} / {max}',
  'composer.tooLong': '{max} 文字までです。',
  'composer.viewOnly': 'いまは見るだけで入っています。書き込むときは「入り方を変える」から変えられます。',
  'composer.muted': 'スタッフのお願いで、{time} まで書き込みとスタンプをお休みしています。',
  'composer.mutedEnded': '書き込みのお休みが終わりました。',

  'staff.createTitle': 'へやをつくる',
  'staff.roomName': 'へやの名前',
  'staff.roomTopic': 'どんなへやか（なくてもかまいません）',
  'staff.capacity': '定員',
  'staff.capacityHint': '見ている人も数えます。',
  'staff.create': 'つくる',
  'staff.created': '「{room}」をつくりました。',
  'staff.archiveTitle': '「{room}」を閉じる',
  'staff.archiveIntro': 'へやにいる人はみんな外に出ます。書き込みは記録に残ります。',
  'staff.reason': '理由（記録に残ります）',
  'staff.reasonShown': '理由（本人にも伝わります。記録に残ります）',
  'staff.archive': '閉じる',
  'staff.archived': '「{room}」を閉じました。',
  'staff.moderateTitle': '{handle} さんへの対応（{room}）',
  'staff.action': 'すること',
  'staff.mute': 'しばらく書き込みを止める（ミュート）',
  'staff.unmute': 'ミュートを終える',
  'staff.remove': 'このへやから離れてもらう',
  'staff.readmit': 'このへやに戻れるようにする',
  'staff.minutes': 'ミュートする時間（分）',
  'staff.minutesHint': 'ミュートのときだけ使います。1〜{max} 分。',
  'staff.do': '実行する',
  'staff.done.mute': '{handle} さんを {minutes} 分ミュートしました。',
  'staff.done.unmute': '{handle} さんのミュートを終えました。',
  'staff.done.remove': '{handle} さんに「{room}」から離れてもらいました。',
  'staff.done.readmit': '{handle} さんが「{room}」に戻れるようにしました。',
  'staff.deleteTitle': '{handle} さんの書き込みを削除する',
  'staff.deleteIntro': '本文はみんなの画面から消えます。',
  'staff.deleteDone': '書き込みを削除しました。',

  'dialog.ok': 'OK',
  'dialog.cancel': 'やめる',
  'notice.dismiss': '閉じる',

  'error.too_long': '長すぎます。短くしてください。',
  'error.rate_limited': (p) => (p.seconds ? `少し速すぎました。${p.seconds} 秒ほど待ってください。` : '少し速すぎました。少し待ってください。'),
  'error.rate_limited.retrying': '少し速すぎたので、自動でもう一度送ります。',
  'error.muted': (p) => (p.time ? `${p.time} まで書き込みをお休み中です。` : 'いまは書き込みをお休み中です。'),
  'error.not_allowed': 'この操作はできません。',
  'error.not_allowed.watching': '見るだけで入っているので、書き込めません。',
  'error.room_full': 'このへやはいっぱいです。少し時間をおいてどうぞ。',
  'error.removed': 'スタッフのお願いで、このへやにはいま入れません。',
  'error.unknown_room': 'このへやはもうありません。',
  'error.not_joined': 'このへやに入っていません。',
  'error.too_many_rooms': '一度に入れるへやの数をこえています。どこかを出てからどうぞ。',
  'error.unknown_message': 'その書き込みはもうありません。',
  'error.invalid_input': '入力を確かめてください。',
  'error.internal': 'サーバーでうまくいきませんでした。もう一度どうぞ。',
  'error.unavailable': 'サーバーが混み合っています。少し待ってからどうぞ。',
  'error.not_found': '見つかりませんでした。',
  'error.disconnected': '接続が切れています。つながったら、もう一度どうぞ。',
  'error.timeout': '返事がありませんでした。もう一度どうぞ。',
  'error.bad_frame': 'うまく送れませんでした。',
  'error.unknown_type': 'うまく送れませんでした。',
  'error.hello_required': 'まだつながっていません。少し待ってからどうぞ。',
  'error.unsupported_version': 'このページは古くなっています。ページを読み込み直してください。',
  'error.invalid_handle': 'この呼び名は使えません。',
  'error.handle_taken': 'この呼び名は、もうほかの人が使っています。',
  'error.unauthorized': 'もう一度、入り直してください。',
  'error.invitation_invalid': 'この招待リンクは使えません（使用済み・期限切れ・取り消し済みのいずれかです）。スタッフにお問い合わせください。',
  'error.sign_in_failed': 'ログイン名か合言葉がちがうようです。',
  'error.totp_required': '確認コード（2 段階認証）も入れてください。',
  'error.suspended': 'このアカウントはいま使えません。スタッフにお問い合わせください。',
  'error.other': 'うまくいきませんでした。',
};

const en = {
  'app.name': 'ibasho',
  'app.sub': 'a place to be',
  'app.heading': 'ibasho, a place to be',
  'app.skip': 'Skip to content',
  'app.loading': 'Loading…',
  'app.loadFailed': 'Could not reach the server. Please wait a little and reload the page.',
  'app.retry': 'Try again',

  'header.lang': 'Language',
  'header.signOut': 'Sign out',
  'header.you': 'You: {handle}',
  'header.staffBadge': 'Staff',
  'signOut.title': 'Sign out of this browser?',
  'signOut.message': 'This forgets your entry in this browser. You will not be able to come back with the same name. If you just want a break, closing this page is enough.',
  'signOut.confirm': 'Forget me and sign out',
  'signOut.cancel': 'Stay',

  'conn.connecting': 'Connecting…',
  'conn.reconnecting': 'Reconnecting…',
  'conn.unauthorized': 'Your entry can no longer be used. Please enter again.',
  'conn.unsupported': 'This page is out of date. Please reload it.',
  'conn.tooMany': 'ibasho is open in too many tabs or windows. Close one of them, then connect again.',
  'conn.retry': 'Connect again',
  'conn.reload': 'Reload',

  'enter.title': 'Welcome to ibasho',
  'enter.lead': 'It is enough just to be here.',
  'enter.anonymous': 'No real name, face or voice needed. Just choose a name to be called here, and an avatar (a shape and a colour).',
  'enter.watching': 'Watching without writing is fine. People who watch are shown to others only as a number.',
  'enter.leaving': 'Come when you like, leave when you like. No goodbyes needed.',
  'enter.handleLabel': 'Your name here',
  'enter.handleHint': '2 to 24 characters. Please do not use your real name or contact details.',
  'enter.shapeLegend': 'Avatar shape',
  'enter.colorLegend': 'Avatar colour',
  'enter.previewLabel': 'You will appear as:',
  'enter.previewNoName': '(your name)',
  'enter.submit': 'Enter',
  'enter.entering': 'Entering…',
  'enter.handleRequired': 'Please enter a name.',
  'enter.error.invalid_handle': 'This name cannot be used.',
  'enter.error.handle_taken': 'Someone already uses this name. Please choose another.',
  'enter.error.rate_limited': 'Many people are entering right now. Please try again in a minute.',
  'enter.error.not_allowed': 'Entering this way is switched off at the moment. Please wait for an invitation from the staff.',
  'enter.error.network': 'Could not reach the server. Please check your connection and try again.',
  'enter.error.other': 'Something went wrong. Please wait a little and try again.',
  'enter.signedOutNotice': 'Come again any time.',

  'shape.circle': 'Circle',
  'shape.square': 'Square',
  'shape.triangle': 'Triangle',
  'shape.star': 'Star',
  'shape.heart': 'Heart',
  'shape.drop': 'Drop',
  'shape.leaf': 'Leaf',
  'shape.cloud': 'Cloud',
  'color.sakura': 'Sakura (pink)',
  'color.sora': 'Sora (sky)',
  'color.wakaba': 'Wakaba (green)',
  'color.mikan': 'Mikan (orange)',
  'color.fuji': 'Fuji (wisteria)',
  'color.suna': 'Suna (sand)',
  'color.umi': 'Umi (sea)',
  'color.sumi': 'Sumi (ink)',

  'nav.title': 'Rooms',
  'nav.lobbyKind': 'Plaza',
  'nav.joinedAs': 'In as: {mode}',
  'nav.notJoined': 'Not in',
  'nav.archived': 'Closed room',
  'nav.newActivity': 'New messages',
  'nav.createRoom': 'Create a room',

  'home.title': 'Welcome, {handle}',
  'home.where': 'Choose where you would like to go. Resting here without going anywhere is fine too.',
  'home.lobby': 'In the plaza you can walk around as your avatar and talk loosely.',
  'home.enterLobby': 'Enter the plaza',

  'mode.participant': 'Take part',
  'mode.chat_only': 'Chat only',
  'mode.view_only': 'Just watch',
  'mode.participant.lobby': 'Your avatar appears on the map; you can write and give stamps.',
  'mode.participant.chat': 'You can write and give stamps. Your name appears under "Who is here".',
  'mode.chat_only.desc': 'Take part with text and stamps only. No voice or video.',
  'mode.view_only.desc': 'Your name is not shown, only a number. You cannot write. Watching is fine.',
  'mode.dialogTitle': 'How to enter "{room}"',
  'mode.dialogIntro': 'You can change this later.',
  'mode.legend': 'How to enter',
  'mode.enter': 'Enter',
  'mode.change': 'Change how I am here',
  'mode.changeTitle': 'Change how you are in "{room}"',
  'mode.changeSubmit': 'Change',
  'mode.current': 'You are here as: {mode}.',

  'room.leave': 'Leave this room',
  'room.archive': 'Close this room',
  'room.lobbyTopic': 'Everyone\'s plaza, where you can walk around as your avatar.',
  'room.left': 'You left "{room}".',
  'room.closed': '"{room}" has been closed. Thank you for being there.',
  'room.removed': 'The staff asked you to step away from "{room}" for a while.',
  'room.removedReason': 'Reason: {reason}',
  'room.rejoinFailed': 'Could not rejoin "{room}": {error}',
  'room.modeChanged': 'You are now here as: {mode}.',
  'room.chatLabel': 'Chat of "{room}"',

  'people.title': 'Who is here',
  'people.none': 'Nobody else is here right now.',
  'people.you': '(you)',
  'people.staff': 'Staff',
  'people.deletedMember': 'a deleted member',
  'people.watching': (p) => (p.count === 1 ? '1 person is watching' : `${p.count} people are watching`),
  'people.youWatch': 'You are here just watching.',
  'people.watchersTitle': 'Watching (shown to staff only)',
  'people.watchersNone': 'Nobody.',
  'people.removedTitle': 'Asked to step away (shown to staff only)',
  'people.moderate': 'Act on {handle}',
  'people.moderateShort': 'Act',
  'people.readmit': 'Let back in',
  'people.readmitLabel': 'Let {handle} back in',

  'map.label': 'Plaza map. Move your avatar with the arrow keys or W, A, S, D. Click the map to walk there.',
  'map.labelWatching': 'Plaza map. You are just watching, so you have no avatar on it.',
  'map.help': 'Select the map, then move with the arrow keys or W, A, S, D.',
  'map.helpWatching': 'You are just watching, so you are not on the map.',
  'map.peopleTitle': 'Positions on the map',
  'map.position': '{handle} — x {x}, y {y}',
  'map.selfLabel': '{handle} (you)',

  'timeline.loadOlder': 'Load earlier messages',
  'timeline.loadingOlder': 'Loading…',
  'timeline.noOlder': 'There are no earlier messages.',
  'timeline.empty': 'No messages yet. Stamps only, or just watching, is fine too.',
  'timeline.edited': '(edited)',
  'timeline.deleted': 'This message was deleted',
  'timeline.deletedByStaff': 'This message was deleted by the staff',
  'timeline.sending': 'Sending…',
  'timeline.failed': 'Not sent: {error}',
  'timeline.retry': 'Send again',
  'timeline.discard': 'Discard',
  'timeline.edit': 'Edit',
  'timeline.editLabel': 'Edit message',
  'timeline.save': 'Save',
  'timeline.cancel': 'Cancel',
  'timeline.delete': 'Delete',
  'timeline.deleteTitle': 'Delete this message?',
  'timeline.deleteMessage': 'Its text will disappear from everyone\'s screen.',
  'timeline.deleteConfirm': 'Delete',
  'timeline.staffDelete': 'Delete (staff)',
  'timeline.stamps': 'Stamps',
  'timeline.stampCount': (p) => (p.count > 0 ? `${p.label} ${p.count}` : p.label),

  'stamp.wave': 'Hi',
  'stamp.heart': 'Warmth',
  'stamp.smile': 'Smile',
  'stamp.thanks': 'Thanks',
  'stamp.clap': 'Applause',
  'stamp.tea': 'Have some tea',
  'stamp.sparkle': 'Lovely',
  'stamp.eyes': 'Reading',

  'composer.label': 'Message',
  'composer.placeholder': 'Write here (Enter sends, Shift+Enter adds a line)',
  'composer.send': 'Send',
  'composer.count': '{count} / {max}',
  'composer.tooLong': 'At most {max} characters.',
  'composer.viewOnly': 'You are just watching. To write, use "Change how I am here".',
  'composer.muted': 'At the staff\'s request, writing and stamps are paused until {time}.',
  'composer.mutedEnded': 'You can write again.',

  'staff.createTitle': 'Create a room',
  'staff.roomName': 'Room name',
  'staff.roomTopic': 'What the room is for (optional)',
  'staff.capacity': 'Capacity',
  'staff.capacityHint': 'Watchers count too.',
  'staff.create': 'Create',
  'staff.created': 'Created "{room}".',
  'staff.archiveTitle': 'Close "{room}"',
  'staff.archiveIntro': 'Everyone in the room is moved out. Its messages stay on record.',
  'staff.reason': 'Reason (kept in the audit log)',
  'staff.reasonShown': 'Reason (shown to the person; kept in the audit log)',
  'staff.archive': 'Close',
  'staff.archived': 'Closed "{room}".',
  'staff.moderateTitle': 'Act on {handle} ({room})',
  'staff.action': 'Action',
  'staff.mute': 'Pause their writing for a while (mute)',
  'staff.unmute': 'End the mute',
  'staff.remove': 'Ask them to leave this room',
  'staff.readmit': 'Let them back into this room',
  'staff.minutes': 'Mute for (minutes)',
  'staff.minutesHint': 'Only used for a mute. 1 to {max} minutes.',
  'staff.do': 'Do it',
  'staff.done.mute': 'Muted {handle} for {minutes} minutes.',
  'staff.done.unmute': 'Ended the mute of {handle}.',
  'staff.done.remove': 'Asked {handle} to leave "{room}".',
  'staff.done.readmit': '{handle} may come back to "{room}".',
  'staff.deleteTitle': 'Delete a message from {handle}',
  'staff.deleteIntro': 'Its text disappears from everyone\'s screen.',
  'staff.deleteDone': 'Deleted the message.',

  'dialog.ok': 'OK',
  'dialog.cancel': 'Cancel',
  'notice.dismiss': 'Dismiss',

  'error.too_long': 'That is too long. Please shorten it.',
  'error.rate_limited': (p) => (p.seconds ? `A little too fast. Please wait about ${p.seconds} s.` : 'A little too fast. Please wait a moment.'),
  'error.rate_limited.retrying': 'A little too fast; sending again by itself in a moment.',
  'error.muted': (p) => (p.time ? `Writing is paused until ${p.time}.` : 'Writing is paused for now.'),
  'error.not_allowed': 'That is not possible here.',
  'error.not_allowed.watching': 'You are just watching, so you cannot write.',
  'error.room_full': 'This room is full. Please try again a little later.',
  'error.removed': 'At the staff\'s request, you cannot enter this room right now.',
  'error.unknown_room': 'This room no longer exists.',
  'error.not_joined': 'You are not in this room.',
  'error.too_many_rooms': 'You are in as many rooms as possible at once. Leave one first.',
  'error.unknown_message': 'That message no longer exists.',
  'error.invalid_input': 'Please check what you entered.',
  'error.internal': 'Something went wrong on the server. Please try again.',
  'error.unavailable': 'The server is busy. Please wait a little.',
  'error.not_found': 'Not found.',
  'error.disconnected': 'The connection is down. Please try again once it is back.',
  'error.timeout': 'No answer came. Please try again.',
  'error.bad_frame': 'That could not be sent.',
  'error.unknown_type': 'That could not be sent.',
  'error.hello_required': 'Not connected yet. Please wait a moment.',
  'error.unsupported_version': 'This page is out of date. Please reload it.',
  'error.invalid_handle': 'This name cannot be used.',
  'error.handle_taken': 'Someone already uses this name.',
  'error.unauthorized': 'Please enter again.',
  'error.invitation_invalid': 'This invitation link cannot be used (it was used, expired or withdrawn). Please ask the staff.',
  'error.sign_in_failed': 'The login or the secret is not right.',
  'error.totp_required': 'Please also enter the current code from your authenticator.',
  'error.suspended': 'This account cannot be used at the moment. Please ask the staff.',
  'error.other': 'That did not work.',
};

export const TABLES = { ja, en };

function initialLang() {
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (LANGS.includes(stored)) return stored;
  } catch {
    // No storage: Japanese first.
  }
  return 'ja';
}

let lang = typeof localStorage === 'undefined' ? 'ja' : initialLang();
const listeners = new Set();

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === lang) return;
  lang = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // The choice holds for this page only.
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The text for `key` in the current language, with {placeholders} filled in. */
export function t(key, params = {}, fallback) {
  const value = TABLES[lang][key] ?? TABLES.ja[key];
  if (value === undefined) return fallback ?? key;
  if (typeof value === 'function') return value(params);
  return value.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Fills `[data-i18n]` elements (the few static strings in index.html). */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

const SPACE_TZ = 'Asia/Tokyo';
const formatters = new Map();
function formatter(kind) {
  const key = `${lang}:${kind}`;
  if (!formatters.has(key)) {
    const options = kind === 'time'
      ? { timeZone: SPACE_TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { timeZone: SPACE_TZ, dateStyle: 'medium', timeStyle: 'short' };
    formatters.set(key, new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', options));
  }
  return formatters.get(key);
}

/** HH:MM in the space's time zone (the programmes and opening hours are in Tokyo time). */
export function formatTime(ms) {
  return formatter('time').format(new Date(ms));
}

export function formatDateTime(ms) {
  return formatter('datetime').format(new Date(ms));
}

/** A refused request, in words, by its stable code. */
export function errorText(err) {
  const code = err?.code || 'other';
  const frame = err?.frame;
  if (code === 'rate_limited') {
    const ms = frame?.retry_after_ms;
    return t('error.rate_limited', { seconds: ms ? Math.max(1, Math.ceil(ms / 1000)) : 0 });
  }
  if (code === 'muted') {
    const ms = frame?.retry_after_ms;
    return t('error.muted', { time: ms ? formatTime(Date.now() + ms) : '' });
  }
  return t(`error.${code}`, {}, t('error.other'));
}
