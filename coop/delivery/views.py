"""Deliveries, reviews, disputes and the member's "my work" page."""

from flask import Blueprint, render_template

bp = Blueprint("delivery", __name__)


# SKELETON: the delivery helper replaces this.
@bp.get("/my-work")
def my_work():
    return render_template("market/home.html")
