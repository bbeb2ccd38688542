// DOM helpers that never parse HTML: every piece of text a user or the server
// supplies goes through textContent, so names and messages cannot inject markup.

/**
 * Creates an element. `props.text` becomes textContent, `props.class` the class
 * list, `props.attrs` plain attributes, `props.on` event listeners.
 */
export function h(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = String(props.text);
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [event, handler] of Object.entries(props.on ?? {})) el.addEventListener(event, handler);
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Removes every child of an element. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}
