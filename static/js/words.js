// The page's words for the server's names: data sets, losses, menu choices and run states.
// They come from /api/options (app/playground/words.py): learnWords fills these objects
// once the options are loaded, before any control is built. A name missing there is shown
// as it is, so a new registry entry still appears.

export const DATASET_NAMES = {};
export const LOSS_NAMES = {};
export const MENU_WORDS = {};
export const STATE_WORDS = {};

export function learnWords(words) {
  Object.assign(DATASET_NAMES, words.datasets);
  Object.assign(LOSS_NAMES, words.losses);
  Object.assign(MENU_WORDS, words.menus);
  Object.assign(STATE_WORDS, words.states);
}
