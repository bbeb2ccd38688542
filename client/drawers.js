// On narrow screens the room list and the member list are drawers over the
// chat; each toggle button opens one and Escape closes them. On wide screens
// the buttons are hidden by CSS and the panels always show.

export class DrawerController {
  #drawers;

  /** @param drawers [{ button, panel, className }] */
  constructor(drawers) {
    this.#drawers = drawers;
    for (const drawer of drawers) {
      drawer.button.addEventListener('click', () => this.#toggle(drawer));
    }
    document.addEventListener('keydown', event => {
      if (event.key === 'Escape') this.closeAll();
    });
  }

  closeAll() {
    for (const drawer of this.#drawers) this.#set(drawer, false);
  }

  #toggle(drawer) {
    const open = !document.body.classList.contains(drawer.className);
    this.closeAll();
    this.#set(drawer, open);
    if (open) drawer.panel.querySelector('button, input, a')?.focus();
  }

  #set(drawer, open) {
    document.body.classList.toggle(drawer.className, open);
    drawer.button.setAttribute('aria-expanded', String(open));
  }
}
