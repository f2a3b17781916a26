"""Scripts that read a served page as a viewer sees it, shadow roots included (tests)."""

# Every element of the page, through shadow roots, that is drawn (has a size, is visible).
DRAWN_JS = """() => {
    const all = []
    const walk = root => {
        for (const el of root.querySelectorAll('*')) {
            const box = el.getBoundingClientRect()
            if (box.width > 0 && box.height > 0 &&
                el.checkVisibility({visibilityProperty: true, opacityProperty: true}))
                all.push(el)
            if (el.shadowRoot) walk(el.shadowRoot)
        }
    }
    walk(document)
    return all
}"""
# The widths of the drawn plot canvases.
CANVAS_WIDTHS_JS = f"""() => ({DRAWN_JS})().filter(el => el.classList.contains('bk-Canvas'))
    .map(el => el.getBoundingClientRect().width)"""
# The text each drawn element holds itself: its first 40 characters, size in px, class.
TEXT_SIZES_JS = f"""() => ({DRAWN_JS})().flatMap(el => {{
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3)
        .map(n => n.textContent.trim()).join(' ').trim()
    return own ? [[own.slice(0, 40), parseFloat(getComputedStyle(el).fontSize),
                   el.className.toString()]] : []
}})"""
